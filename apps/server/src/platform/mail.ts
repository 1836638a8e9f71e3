import nodemailer from 'nodemailer';

export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
}

export interface Mailer {
  send(msg: MailMessage): Promise<void>;
  close(): void;
}

/** Email through the operator's SMTP server (nodemailer); null when none is configured. */
export function createMailer(smtp: { url: string; from: string } | undefined): Mailer | null {
  if (!smtp) return null;
  const transport = nodemailer.createTransport(smtp.url);
  return {
    send: async (msg) => {
      await transport.sendMail({ from: smtp.from, to: msg.to, subject: msg.subject, text: msg.text });
    },
    close: () => transport.close(),
  };
}
