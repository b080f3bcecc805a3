import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createMailer, LogMailer, mailDomain, SmtpMailer } from '../../../src/jobs/mail';
import { startApp, type TestApp } from '../../support/app';
import { startTestWorker, testLogger, waitForJob } from '../../support/jobs';
import { loadConfig } from '../../../src/config';
import { firstOf } from '../../support/narrow';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server on a free local port that keeps what it receives. */
async function smtpServer(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const header = (raw: string, name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(raw)?.[1]?.trim();

describe('mail transports', () => {
  it('logs mail without SMTP_URL, and keeps only the last messages', async () => {
    const mailer = createMailer(loadConfig({}), testLogger());
    expect(mailer).toBeInstanceOf(LogMailer);
    const log = new LogMailer('no-reply@localhost', testLogger(), 2);
    for (const subject of ['one', 'two', 'three']) await log.send({ to: 'a@example.com', subject, text: '.' });
    expect(log.sent.map((m) => m.subject)).toEqual(['two', 'three']);
    expect(firstOf(log.sent).messageId).toMatch(/^<[0-9a-f-]{36}@localhost>$/);
  });

  it('finds the domain of the sender for Message-IDs', () => {
    expect(mailDomain('Shop <orders@shop.example>')).toBe('shop.example');
    expect(mailDomain('no-reply@localhost')).toBe('localhost');
  });

  describe('with SMTP_URL', () => {
    let smtp: Awaited<ReturnType<typeof smtpServer>>;
    let app: TestApp;
    beforeAll(async () => {
      smtp = await smtpServer();
      app = await startApp({ SMTP_URL: smtp.url, MAIL_FROM: 'Shop <orders@shop.example>' });
    });
    afterAll(async () => {
      await app.close();
      await smtp.close();
    });

    it('mail.send delivers through the SMTP server, once, with the job id in its Message-ID', async () => {
      const mailer = createMailer(app.config, testLogger());
      expect(mailer).toBeInstanceOf(SmtpMailer);
      const running = await startTestWorker(app, { mailer });
      try {
        const id = await app.orm.em.fork().transactional((tx) =>
          app.services.jobs.send(tx, 'mail.send', { to: ['ada@example.com', 'bob@example.com'], subject: 'Order 1001 shipped', text: 'Tracking: 1Z999' }),
        );
        expect((await waitForJob(app.services.jobs, 'mail.send', id!)).state).toBe('completed');
        expect(smtp.received).toHaveLength(1);
        const mail = firstOf(smtp.received);
        expect(mail.from).toBe('orders@shop.example');
        expect(mail.to).toEqual(['ada@example.com', 'bob@example.com']);
        expect(header(mail.raw, 'Subject')).toBe('Order 1001 shipped');
        expect(header(mail.raw, 'Message-ID')).toBe(`<${id}@shop.example>`);
        expect(mail.raw).toContain('Tracking: 1Z999');
      } finally {
        await running.stop();
      }
    });
  });
});
