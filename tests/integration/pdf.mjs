// pdf.mjs - small, valid PDF files made from scratch for the slide tests:
// a catalog, a page tree and one page per slide with a text content
// stream, a classic cross-reference table with exact byte offsets and a
// trailer (PDF 1.4, ISO 32000-1 section 7.5). qpdf and pdf.js read them.

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
