/** Texts of the login pages, the Forbidden page and the PIN email, in English and Japanese. */

export type Language = "en" | "ja";

export interface Texts {
  signInTitle: (application: string) => string;
  emailPrompt: string;
  emailLabel: string;
  sendCode: string;
  codeSent: (minutes: number) => string;
  pinLabel: string;
  signIn: string;
  /** The message Cloudflare shows for a wrong PIN or a denied identity. */
  noAccess: string;
  useOtherEmail: string;
  sessionExpired: string;
  invalidEmail: string;
  unknownApplication: (host: string) => string;
  forbiddenTitle: string;
  forbiddenText: (host: string) => string;
  mailSubject: (application: string) => string;
  mailBody: (pin: string, application: string, minutes: number) => string[];
}

const english: Texts = {
  signInTitle: (application) => `Sign in to ${application}`,
  emailPrompt: "Enter your email address. If it may use this application, we send you a one-time code.",
  emailLabel: "Email",
  sendCode: "Send me a code",
  codeSent: (minutes) => `A code has been emailed to you. It expires in ${minutes} minutes.`,
  pinLabel: "Code",
  signIn: "Sign in",
  noAccess: "That account does not have access.",
  useOtherEmail: "Use a different email",
  sessionExpired: "Your sign-in session expired. Enter your email again.",
  invalidEmail: "Enter a valid email address, such as name@example.com.",
  unknownApplication: (host) => `No application protects ${host}.`,
  forbiddenTitle: "Forbidden",
  forbiddenText: (host) => `You do not have permission to view ${host}. Ask its administrator for access.`,
  mailSubject: (application) => `Your login code for ${application}`,
  mailBody: (pin, application, minutes) => [
    `Your login code for ${application} is:`,
    "",
    `    ${pin}`,
    "",
    `It expires in ${minutes} minutes. If you did not request it, ignore this message.`,
  ],
};

const japanese: Texts = {
  signInTitle: (application) => `${application} にサインイン`,
  emailPrompt: "メールアドレスを入力してください。このアプリケーションを使えるアドレスなら、ワンタイムコードをお送りします。",
  emailLabel: "メールアドレス",
  sendCode: "コードを送信",
  codeSent: (minutes) => `コードをメールで送信しました。有効期限は${minutes}分です。`,
  pinLabel: "コード",
  signIn: "サインイン",
  noAccess: "このアカウントにはアクセス権がありません。",
  useOtherEmail: "別のメールアドレスを使う",
  sessionExpired: "サインインの有効期限が切れました。もう一度メールアドレスを入力してください。",
  invalidEmail: "name@example.com のような有効なメールアドレスを入力してください。",
  unknownApplication: (host) => `${host} を保護するアプリケーションはありません。`,
  forbiddenTitle: "アクセスできません",
  forbiddenText: (host) => `${host} を表示する権限がありません。管理者にアクセス権を依頼してください。`,
  mailSubject: (application) => `${application} のログインコード`,
  mailBody: (pin, application, minutes) => [
    `${application} のログインコードは次のとおりです。`,
    "",
    `    ${pin}`,
    "",
    `有効期限は${minutes}分です。心当たりがない場合は、このメールを破棄してください。`,
  ],
};

/** Returns the texts of one language. */
export function textsFor(language: Language): Texts {
  return language === "ja" ? japanese : english;
}

/**
 * Picks Japanese or English from an Accept-Language header (RFC 9110 §12.5.4). The supported language with the
 * highest q-value wins, and the earlier one wins a tie. A header without either gives English.
 */
export function negotiateLanguage(acceptLanguage: string | undefined): Language {
  let best: { language: Language; quality: number } | undefined;
  for (const entry of (acceptLanguage ?? "").split(",")) {
    const [range = "", ...parameters] = entry.trim().toLowerCase().split(";");
    const qualityParameter = parameters.map((parameter) => parameter.trim()).find((parameter) => parameter.startsWith("q="));
    const quality = qualityParameter === undefined ? 1 : Number(qualityParameter.slice(2));
    if (!Number.isFinite(quality) || quality <= 0) continue;

    const primary = range.split("-")[0];
    if (primary !== "ja" && primary !== "en") continue;
    if (best === undefined || quality > best.quality) best = { language: primary, quality };
  }
  return best?.language ?? "en";
}
