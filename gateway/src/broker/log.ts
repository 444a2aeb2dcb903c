/** The gateway's libraries take the protocol's injected-logger shape; default silent. */
export { type Logger, silentLogger } from '@beepkit/protocol/log';
