// flags.mjs - the benchmark tools' one way to read their flags.
//
// options is {name: [default, help]}; a flag whose default is a number
// takes a number. Both --name value and --name=value are read. Errors
// name the flag; --help prints the usage and exits.

/* The usage text: head, then one line a flag, with its default unless hide(name, default). */
export function flagUsage(head, options, pad, hide = () => false) {
  const lines = [head, ''];
  for (const [k, [def, help]] of Object.entries(options)) {
    lines.push(`  --${k.padEnd(pad)} ${help}${def === '' || hide(k, def) ? '' : ` (${def})`}`);
  }
  return lines.join('\n');
}

/* The flags of argv over the defaults of options; throws an Error naming the flag. */
export function parseFlags(argv, options, usage) {
  const o = Object.fromEntries(Object.entries(options).map(([k, [def]]) => [k, def]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !(m[1] in options)) throw new Error(`unknown argument ${a}\n${usage}`);
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`--${m[1]} needs a value`);
    if (typeof options[m[1]][0] === 'number') {
      o[m[1]] = Number(v);
      if (!Number.isFinite(o[m[1]])) throw new Error(`--${m[1]}: not a number: ${v}`);
    } else {
      o[m[1]] = v;
    }
  }
  return o;
}
