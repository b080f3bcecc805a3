import { randomUUID } from 'node:crypto';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { JobHandler } from './job';

/** One e-mail, as the `mail.send` job carries it. */
export interface MailMessage {
  to: string | string[];
  subject: string;
  text: string;
  html?: string;
  replyTo?: string;
}

export interface OutgoingMail extends MailMessage {
  /** The Message-ID header (`<id@domain>`); generated when absent. */
  messageId?: string;
}

export interface SentMail extends MailMessage {
  from: string;
  messageId: string;
  sentAt: Date;
}

/** Where mail goes: the log (development, tests, or no SMTP_URL) or an SMTP server. */
export interface Mailer {
  readonly transport: 'log' | 'smtp';
  send(mail: OutgoingMail): Promise<SentMail>;
  close(): Promise<void>;
}

/** The domain of an address such as `Shop <no-reply@shop.example>`. */
export function mailDomain(from: string): string {
  return /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
}

/** Logs every message instead of delivering it, and keeps the last `keep` in memory for tests. */
export class LogMailer implements Mailer {
  readonly transport = 'log';
  private readonly kept: SentMail[] = [];

  constructor(
    private readonly from: string,
    private readonly logger: Logger,
    private readonly keep = 100,
  ) {}

  /** The last messages "sent", oldest first. */
  get sent(): readonly SentMail[] {
    return this.kept;
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const sent: SentMail = {
      ...mail,
      from: this.from,
      messageId: mail.messageId ?? `<${randomUUID()}@${mailDomain(this.from)}>`,
      sentAt: new Date(),
    };
    this.kept.push(sent);
    if (this.kept.length > this.keep) this.kept.shift();
    this.logger.info({ mail: { to: sent.to, subject: sent.subject, messageId: sent.messageId, text: sent.text } }, 'mail (log transport: not delivered)');
    return sent;
  }

  async close(): Promise<void> {}
}

/** Delivers through an SMTP server (nodemailer), e.g. `smtps://user:password@smtp.example.com`. */
export class SmtpMailer implements Mailer {
  readonly transport = 'smtp';
  private readonly transporter: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    // Time limits well inside the mail job's expireInSeconds, so a stuck server fails the attempt
    // (and the job retries) instead of the job expiring while a send may still be running.
    this.transporter = createTransport({ url, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 });
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const info = await this.transporter.sendMail({
      from: this.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      ...(mail.html !== undefined && { html: mail.html }),
      ...(mail.replyTo !== undefined && { replyTo: mail.replyTo }),
      ...(mail.messageId !== undefined && { messageId: mail.messageId }),
    });
    return { ...mail, from: this.from, messageId: String(info.messageId), sentAt: new Date() };
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}

/** SMTP when SMTP_URL is set, the log otherwise. */
export function createMailer(config: Config, logger: Logger): Mailer {
  if (config.mail.smtpUrl) return new SmtpMailer(config.mail.smtpUrl, config.mail.from);
  return new LogMailer(config.mail.from, logger);
}

/**
 * The `mail.send` handler: sends the message once per job. The send is recorded under the job id
 * after it succeeds, so a retry after that point (the worker died, the completion was lost) sends
 * nothing; the Message-ID is derived from the job id, so the rare resend from a crash between the
 * send and its record reaches the recipient as the same message.
 */
export function sendMailJob(mailer: Mailer, from: string): JobHandler<MailMessage> {
  return async (message, job) => {
    const messageId = `<${job.id}@${mailDomain(from)}>`;
    const sent = await job.once('mail.sent', () => mailer.send({ ...message, messageId }));
    job.logger.info({ messageId, transport: mailer.transport }, sent ? 'mail sent' : 'mail already sent by an earlier attempt');
  };
}
