/**
 * A merchant's QFPay notification endpoint on 127.0.0.1: records what
 * arrives and answers as told (QFPay wants HTTP 200 with the body SUCCESS).
 */
import http from 'node:http';

export interface ReceivedNotification {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
}

export class NotifyReceiver {
  readonly received: ReceivedNotification[] = [];
  /** Answers to give, in order; [200, 'SUCCESS'] once they run out. */
  answers: Array<[number, string]> = [];
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
      const [status, text] = this.answers.shift() ?? [200, 'SUCCESS'];
      res.statusCode = status;
      res.end(text);
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/qfpay/notify`;
    return this;
  }

  of(syssn: string): ReceivedNotification[] {
    return this.received.filter((n) => n.body?.syssn === syssn);
  }

  async waitFor(predicate: (all: ReceivedNotification[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`notifications not received in time; got ${this.received.map((n) => `${n.body?.notify_type}:${n.body?.syssn}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
