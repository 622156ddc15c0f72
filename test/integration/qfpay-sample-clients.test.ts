/**
 * Seed 004's sample clients, run unchanged except for the base URL and the
 * credentials (read from QFPAY_* environment variables): Python with
 * requests, Node.js with the request package, Java and PHP with curl. Each
 * must get respcd 0000 and a pay_url of this platform. A client whose
 * runtime is missing is skipped with a message saying how to get it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { QfpayClient } from '../clients/qfpay-client.mts';
import { describeEachBackend, startPlatform, type TestPlatform } from '../support/platform.ts';

const run = promisify(execFile);
const clients = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'clients');
const PYTHON = '/usr/bin/python3';

async function works(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const pythonReady = await works(PYTHON, ['-c', 'import requests']);
if (!pythonReady) console.warn(`QFPay Python sample client SKIPPED: ${PYTHON} cannot import requests (apt-get install -y python3-requests)`);
const phpReady = await works('php', ['-r', 'exit(function_exists("curl_init") ? 0 : 1);']);
if (!phpReady) console.warn('QFPay PHP sample client SKIPPED: no php with curl (apt-get install -y php-cli php-curl)');
const javaReady = (await works('javac', ['-version'])) && (await works('java', ['-version']));
if (!javaReady) console.warn('QFPay Java sample client SKIPPED: no javac / java (apt-get install -y default-jdk-headless)');
const requestReady = existsSync(path.resolve(clients, '..', '..', 'node_modules', 'request'));
if (!requestReady) console.warn('QFPay Node.js sample client SKIPPED: the request package is not installed (npm install)');

/** The last line that looks like the answer the sample printed. */
function lastLine(stdout: string, start: string): string {
  const lines = stdout.trim().split('\n').filter((l) => l.trim().startsWith(start));
  return lines[lines.length - 1] ?? '';
}

describeEachBackend('QFPay sample clients of seed 004', (backend) => {
  let tp: TestPlatform;
  let creds: IssuedCredentials;
  let sub: IssuedCredentials;
  let javaClasses = '';

  beforeAll(async () => {
    tp = await startPlatform(backend);
    creds = await tp.platform.merchants.create({ name: 'Sample Merchant' });
    sub = await tp.platform.merchants.createSubMerchant(creds.merchant_id, { name: 'Sample Branch' });
    if (javaReady) {
      javaClasses = mkdtempSync(path.join(os.tmpdir(), 'qfpay-java-'));
      const java = path.join(clients, 'java');
      await run('javac', ['-d', javaClasses, ...['TestMain', 'QFPayUtils', 'Requests'].map((c) => path.join(java, `${c}.java`))], { timeout: 120_000 });
    }
  });
  afterAll(async () => {
    await tp?.close();
    if (javaClasses) rmSync(javaClasses, { recursive: true, force: true });
  });

  const env = (mchid: string) => ({
    ...process.env,
    QFPAY_ENVIRONMENT: tp.baseUrl,
    QFPAY_APP_CODE: creds.qfpay.app_code,
    QFPAY_CLIENT_KEY: creds.qfpay.client_key,
    QFPAY_MCHID: mchid,
  });

  /** The order the sample made exists, for the merchant the sample named. */
  async function expectOrder(answer: any, mchid: string | undefined, txamt: string, txcurrcd: string): Promise<void> {
    expect(answer).toMatchObject({ respcd: '0000', pay_type: '801101', txamt, txcurrcd });
    expect(answer.pay_url).toMatch(new RegExp(`^${tp.baseUrl}/wallet/pay/`));
    const row = (await new QfpayClient(tp.baseUrl, creds.qfpay, mchid).query({ syssn: answer.syssn })).body.data[0];
    expect(row).toMatchObject({ syssn: answer.syssn, out_trade_no: answer.out_trade_no, respcd: '1143', pay_type: '801101' });
  }

  it.skipIf(!pythonReady)('Python (requests): prints the answer with respcd 0000 and a pay_url', async () => {
    const { stdout } = await run(PYTHON, [path.join(clients, 'qfpay_payment.py')], { env: env(sub.merchant_id), timeout: 30_000 });
    // The sample prints r.json(), a Python dict: read it back with Python itself.
    const printed = lastLine(stdout, '{');
    const { stdout: json } = await run(PYTHON, ['-c', 'import ast, json, sys; print(json.dumps(ast.literal_eval(sys.argv[1])))', printed]);
    const answer = JSON.parse(json);
    expect(answer.out_trade_no).toBe('01234567890123');
    await expectOrder(answer, sub.merchant_id, '10', 'HKD');
  });

  it.skipIf(!requestReady)('Node.js (request): prints the JSON answer with respcd 0000 and a pay_url', async () => {
    const { stdout } = await run(process.execPath, [path.join(clients, 'qfpay_payment.js')], { env: env(sub.merchant_id), timeout: 30_000 });
    await expectOrder(JSON.parse(lastLine(stdout, '{"')), sub.merchant_id, '10', 'HKD');
  });

  it.skipIf(!javaReady)('Java (URLConnection): prints the JSON answer with respcd 0000 and a pay_url', async () => {
    // The Java and Python samples share out_trade_no 01234567890123: the Java one acts for the app code itself.
    const { stdout } = await run('java', ['-cp', javaClasses, 'TestMain'], { env: env(creds.merchant_id), timeout: 60_000 });
    await expectOrder(JSON.parse(lastLine(stdout, '{"')), undefined, '10', 'EUR');
  });

  it.skipIf(!phpReady)('PHP (curl): prints the decoded answer with respcd 0000 and a pay_url', async () => {
    const { stdout } = await run('php', [path.join(clients, 'qfpay_payment.php')], { env: env(''), timeout: 30_000 });
    // print_r of the decoded JSON: "[respcd] => 0000".
    const fields = Object.fromEntries([...stdout.matchAll(/^\s*\[(\w+)\] => (.*)$/gm)].map((m) => [m[1], m[2]!.trim()]));
    await expectOrder(fields, undefined, '2200', 'HKD');
  });
});
