/** How `npm run cost` prints money and quantities in its tables. */
export const money = (value: number): string =>
  value >= 100 ? `$${value.toFixed(0)}` : value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;

export const quantity = (value: number): string =>
  value >= 1e6
    ? `${(value / 1e6).toFixed(2)} M`
    : value >= 1000
      ? `${(value / 1000).toFixed(1)} k`
      : value.toFixed(2);
