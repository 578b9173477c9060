// pace.mjs - a load-generator worker opens its share of the connections
// at its share of the connect rate, not all at once (load.mjs and the
// Colyseus generator).

/* Call open(item) for each of items, one every 1000/perSecond ms, the first at once. */
export function openPaced(items, perSecond, open) {
  const gap = 1000 / perSecond;
  let k = 0;
  const next = () => {
    if (k >= items.length) return;
    open(items[k++]);
    if (k < items.length) setTimeout(next, gap);
  };
  next();
}
