/**
 * HTML of the login pages and the Forbidden page. Plain forms that POST without JavaScript, in edgelock's own
 * look; inputs and buttons carry stable ids and names (`email`, `pin`, `submit`) for browser tests.
 */
import { escapeHtml } from "../responses.ts";
import { textsFor, type Language } from "./i18n.ts";

const STYLE = [
  "body{font-family:system-ui,'Hiragino Sans','Noto Sans JP',sans-serif;background:#f3f5f7;color:#1d2630;margin:0}",
  "main{max-width:26rem;margin:4rem auto;background:#fff;border:1px solid #d5dbe1;border-radius:8px;padding:2rem}",
  "h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;font-weight:600;margin:1rem 0 .3rem}",
  "input{box-sizing:border-box;width:100%;padding:.55rem;font-size:1rem;border:1px solid #9aa5b1;border-radius:4px}",
  "button{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;border:0;border-radius:4px;background:#24507a;color:#fff}",
  ".notice{background:#e8f1fb;padding:.6rem;border-radius:4px}.error{background:#fbeaea;color:#8a1c1c;padding:.6rem;border-radius:4px}",
  "footer{margin-top:1.5rem;font-size:.8rem;color:#5b6773}",
].join("");

function layout(language: Language, title: string, content: string[]): string {
  return [
    "<!DOCTYPE html>",
    `<html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`,
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>`,
    "<body><main>",
    `<h1>${escapeHtml(title)}</h1>`,
    ...content,
    "<footer>edgelock local edge</footer>",
    "</main></body></html>",
    "",
  ].join("\n");
}

export interface EmailStepPage {
  language: Language;
  application: string;
  /** Form action: the login URL with its query. */
  action: string;
  /** Prefilled address, after an invalid one. */
  email?: string;
  error?: string;
}

/** Renders the first step: the email form. */
export function renderEmailStep(page: EmailStepPage): string {
  const texts = textsFor(page.language);
  return layout(page.language, texts.signInTitle(page.application), [
    ...(page.error === undefined ? [] : [`<p class="error" role="alert" id="error">${escapeHtml(page.error)}</p>`]),
    `<p>${escapeHtml(texts.emailPrompt)}</p>`,
    `<form method="post" action="${escapeHtml(page.action)}">`,
    '<input type="hidden" name="step" value="email">',
    `<label for="email">${escapeHtml(texts.emailLabel)}</label>`,
    `<input id="email" name="email" type="email" autocomplete="email" required value="${escapeHtml(page.email ?? "")}">`,
    `<button id="submit" name="submit" type="submit">${escapeHtml(texts.sendCode)}</button>`,
    "</form>",
  ]);
}

export interface PinStepPage {
  language: Language;
  application: string;
  action: string;
  email: string;
  /** Id of the pending login. */
  flow: string;
  pinLength: number;
  ttlMinutes: number;
  error?: string;
}

/** Renders the second step: the PIN form, which always states that a code was sent. */
export function renderPinStep(page: PinStepPage): string {
  const texts = textsFor(page.language);
  return layout(page.language, texts.signInTitle(page.application), [
    ...(page.error === undefined ? [] : [`<p class="error" role="alert" id="error">${escapeHtml(page.error)}</p>`]),
    `<p class="notice" id="notice">${escapeHtml(texts.codeSent(page.ttlMinutes))}</p>`,
    `<p>${escapeHtml(page.email)}</p>`,
    `<form method="post" action="${escapeHtml(page.action)}">`,
    '<input type="hidden" name="step" value="pin">',
    `<input type="hidden" name="flow" value="${escapeHtml(page.flow)}">`,
    `<label for="pin">${escapeHtml(texts.pinLabel)}</label>`,
    `<input id="pin" name="pin" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="${page.pinLength}" required>`,
    `<button id="submit" name="submit" type="submit">${escapeHtml(texts.signIn)}</button>`,
    "</form>",
    `<p><a id="restart" href="${escapeHtml(page.action)}">${escapeHtml(texts.useOtherEmail)}</a></p>`,
  ]);
}

/** Renders a page with one message and a link back to the email form. */
export function renderMessagePage(language: Language, title: string, message: string, restartUrl?: string): string {
  const texts = textsFor(language);
  return layout(language, title, [
    `<p class="error" role="alert" id="error">${escapeHtml(message)}</p>`,
    ...(restartUrl === undefined ? [] : [`<p><a id="restart" href="${escapeHtml(restartUrl)}">${escapeHtml(texts.useOtherEmail)}</a></p>`]),
  ]);
}

/** Renders the app host's Forbidden page. */
export function renderForbiddenPage(language: Language, host: string): string {
  const texts = textsFor(language);
  return layout(language, texts.forbiddenTitle, [`<p id="error">${escapeHtml(texts.forbiddenText(host))}</p>`]);
}
