/** The scenario's local frame is the air's: one ENU implementation for GNSS and BLE. */
export { latLonToEnu as toEnu, enuToLatLon as toLatLon, distanceM as distance, type Enu, type LatLon } from '../air/geo.ts';
