/**
 * Ports for tests, benches and the demo come from the kernel. Components that
 * listen take port 0 and report the bound port; a program we cannot ask for
 * port 0 (gpsd -S, a mosquitto.conf listener) gets `freePort()`: bind port 0,
 * read the port, close. The same gives a port where nothing listens (for
 * "connection refused" cases), instead of a literal that may be taken.
 */
import net from 'node:net';

/** A port the kernel just handed out on `host` and that is closed again. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed). */
export const closedPort = freePort;
