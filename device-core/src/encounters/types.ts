/** An address heard with a new RPI (a peer's rotation), as the encounter log reports it. */
export interface Rotation {
  address: string;
  fromRpi: string;
  toRpi: string;
  at: number;
}
