/**
 * A merchant's endpoint on 127.0.0.1 that records every request that arrives
 * (the body parsed as JSON when it is JSON) and answers as its subclass says:
 * the common part of the UQPAY webhook receiver and the QFPay notification
 * receiver.
 */
import http from 'node:http';

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A port nobody listens on right now (for servers that must be started on a chosen port). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export abstract class RecordingEndpoint {
  readonly received: ReceivedRequest[] = [];
  url = '';
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* keep raw */
      }
      this.received.push({ headers: req.headers, raw, body });
      const [status, text] = this.nextAnswer();
      res.statusCode = status;
      res.end(text);
    });
  });

  /**
   * @param pathname the path of `url`
   * @param what what arrives, for the timeout message ("webhooks")
   * @param label how one arrival is named in the timeout message
   */
  constructor(
    private readonly pathname: string,
    private readonly what: string,
    private readonly label: (r: ReceivedRequest) => string,
  ) {}

  /** The status and body to answer the request just recorded with. */
  protected abstract nextAnswer(): [number, string];

  /** Listens on `port`, or on a free port when 0. */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}${this.pathname}`;
    return this;
  }

  async waitFor(predicate: (all: ReceivedRequest[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`${this.what} not received in time; got ${this.received.map(this.label).join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
