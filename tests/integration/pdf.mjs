// pdf.mjs - small, valid PDF files made from scratch for the slide tests:
// a catalog, a page tree and one page per slide with a text content
// stream, a classic cross-reference table with exact byte offsets and a
// trailer (PDF 1.4, ISO 32000-1 section 7.5). qpdf and pdf.js read them.
// And a compression bomb: a deck of a few KiB whose objects sit in an
// object stream that inflates to hundreds of MiB.

import zlib from 'node:zlib';

/*
 * A PDF of `pages` pages as a Buffer. opts.padding: bytes of filler added
 * to every page's content stream (a comment line, so the page still
 * draws), to make large files. opts.title: the text on each page.
 */
export function makePdf(pages, { padding = 0, title = 'Slide' } = {}) {
  const chunks = [];
  const offsets = [];
  let size = 0;
  const put = (s) => {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'latin1');
    chunks.push(b);
    size += b.length;
  };
  const obj = (n, body) => {
    offsets[n] = size;
    put(`${n} 0 obj\n`);
    put(body);
    put('\nendobj\n');
  };

  // Objects: 1 catalog, 2 page tree, 3 font, then per page i: 4+2i page, 5+2i content.
  put('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n');
  const kids = [];
  for (let i = 0; i < pages; i++) kids.push(`${4 + 2 * i} 0 R`);
  obj(1, '<< /Type /Catalog /Pages 2 0 R >>');
  obj(2, `<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages} >>`);
  obj(3, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  for (let i = 0; i < pages; i++) {
    obj(4 + 2 * i, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 960 540] ` +
      `/Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + 2 * i} 0 R >>`);
    let text = `BT /F1 48 Tf 80 270 Td (${title} ${i + 1}) Tj ET\n`;
    if (padding > 0) text += `%${'x'.repeat(Math.max(0, padding - 2))}\n`;
    const content = Buffer.from(text, 'latin1');
    offsets[5 + 2 * i] = size;
    put(`${5 + 2 * i} 0 obj\n<< /Length ${content.length} >>\nstream\n`);
    put(content);
    put('\nendstream\nendobj\n');
  }
  const count = 4 + 2 * pages;
  const xref = size;
  put(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let n = 1; n < count; n++) put(`${String(offsets[n]).padStart(10, '0')} 00000 n \n`);
  put(`trailer\n<< /Size ${count} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(chunks);
}

/* Adler-32 (RFC 1950) of prefix followed by zeros zero bytes. */
function adler32(prefix, zeros) {
  const MOD = 65521;
  let a = 1;
  let b = 0;
  for (const byte of prefix) {
    a = (a + byte) % MOD;
    b = (b + a) % MOD;
  }
  // A zero byte leaves a alone and adds it to b.
  b = (b + a * (zeros % MOD)) % MOD;
  return ((b << 16) | a) >>> 0;
}

/*
 * A zlib stream of prefix and then mib MiB of zero bytes, made without
 * ever holding the zeros: one MiB of zeros deflated on its own (a raw
 * deflate block that ends byte-aligned, a sync flush) inflates to the same
 * MiB wherever it stands, so the stream is that block mib times over.
 */
function zlibOfZeros(prefix, mib) {
  const MIB = 1 << 20;
  const sync = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const head = zlib.deflateRawSync(prefix, sync);
  const block = zlib.deflateRawSync(Buffer.alloc(MIB), sync);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(adler32(prefix, mib * MIB));
  // 78 9c: deflate, 32 KiB window; 03 00: an empty final block.
  return Buffer.concat([Buffer.from([0x78, 0x9c]), head, ...Array(mib).fill(block),
    Buffer.from([0x03, 0x00]), tail]);
}

/*
 * A one-page PDF 1.5 of a couple of KiB that is a compression bomb: its
 * catalog, page tree and page are in an object stream (found through a
 * cross-reference stream) whose data is those objects and then mib MiB of
 * zeros (NUL is white space in PDF, so the file is valid), deflated twice
 * (/Filter [/FlateDecode /FlateDecode]). A reader must inflate all of it
 * to find the page tree.
 */
export function makeBombPdf(mib = 400) {
  const objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 960 540] >>'];
  let head = '';
  let body = '';
  objs.forEach((o, i) => {
    head += `${i + 1} ${body.length} `;
    body += `${o}\n`;
  });
  const data = zlib.deflateSync(zlibOfZeros(Buffer.from(head + body, 'latin1'), mib), { level: 9 });
  const chunks = [];
  let size = 0;
  const put = (s) => {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'latin1');
    chunks.push(b);
    size += b.length;
  };
  put('%PDF-1.5\n%\xe2\xe3\xcf\xd3\n');
  const stm = size;
  put(`4 0 obj\n<< /Type /ObjStm /N ${objs.length} /First ${head.length} ` +
    `/Filter [/FlateDecode /FlateDecode] /Length ${data.length} >>\nstream\n`);
  put(data);
  put('\nendstream\nendobj\n');
  // The cross-reference stream: /W [1 4 2], type 2 rows for the objects
  // in the stream (its number, the index), type 1 for the two at offsets.
  const xref = size;
  const rows = [[0, 0, 65535], [2, 4, 0], [2, 4, 1], [2, 4, 2], [1, stm, 0], [1, xref, 0]];
  const table = Buffer.alloc(rows.length * 7);
  rows.forEach(([t, a, b], i) => {
    table[i * 7] = t;
    table.writeUInt32BE(a, i * 7 + 1);
    table.writeUInt16BE(b, i * 7 + 5);
  });
  put(`5 0 obj\n<< /Type /XRef /Size ${rows.length} /W [1 4 2] /Root 1 0 R /Length ${table.length} >>\nstream\n`);
  put(table);
  put('\nendstream\nendobj\n');
  put(`startxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(chunks);
}
