// Number formatting for messages and reports. `toLocaleString` loads ICU's locale data on its
// first call (about 40 ms, a tenth of a cached `recommend`), so digits are grouped here instead.

/** An integer part with comma thousands separators, as en-US writes it: 1234567.5 -> "1,234,567.5". */
export function withThousands(x: number): string {
  const [int, frac] = String(x).split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}
