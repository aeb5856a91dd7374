/**
 * Login in a real browser. Chromium opens the app and lands on the login page in the language of its
 * Accept-Language header. It requests a PIN, which the test reads from the outbox .eml as a user would, and
 * ends on the echo page with the Access and mTLS headers. Also covered: the page for a disallowed address,
 * which must look the same as for an allowed one, and logout.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { chromiumMissing, launchChromium, RESULTS_DIR } from "./browser.ts";
import { MTLS_HEADERS, outboxFiles, pinFromEml, startTestStack, waitFor, type Cleanup, type StackFixture } from "./fixtures.ts";

/** Starts a stack and a Chromium that trusts its edge, with one browser context in `locale`. */
async function openBrowser(t: Cleanup, locale: "ja-JP" | "en-US"): Promise<{ fixture: StackFixture; browser: Browser; context: BrowserContext; page: Page }> {
  const fixture = await startTestStack(t);
  const browser = await launchChromium([fixture.stack.prepared.edgeServer.certPem]);
  t.after(() => browser.close());
  const context = await browser.newContext({ ignoreHTTPSErrors: false, locale });
  const page = await context.newPage();
  return { fixture, browser, context, page };
}

/** Opens the app and checks that the browser ends on the team domain's login page for app.localhost. */
async function openLoginPage(fixture: StackFixture, page: Page): Promise<void> {
  const { urls } = fixture.stack;
  const response = await page.goto(`${urls.app}/`);

  assert.equal(response?.status(), 200, `${page.url()} returned ${await response?.text()}`);
  const landed = new URL(page.url());
  assert.equal(landed.origin, urls.team);
  assert.equal(landed.pathname, "/cdn-cgi/access/login/app.localhost");
  assert.equal(landed.searchParams.get("redirect_url"), "/");
}

test("browser login in Japanese reaches the echo", { skip: chromiumMissing }, async (t) => {
  const { fixture, context, page } = await openBrowser(t, "ja-JP");
  const { urls } = fixture.stack;

  await openLoginPage(fixture, page);
  assert.equal(await page.getAttribute("html", "lang"), "ja");
  assert.equal(await page.textContent("h1"), "app にサインイン");
  assert.equal(await page.textContent("label[for=email]"), "メールアドレス");
  assert.equal(await page.textContent("#submit"), "コードを送信");
  await page.screenshot({ path: join(RESULTS_DIR, "login-ja.png"), fullPage: true });

  await page.fill("#email", "alice@example.com");
  await page.click("#submit");
  await page.waitForSelector("#notice");
  assert.equal(await page.textContent("#notice"), "コードをメールで送信しました。有効期限は10分です。");
  assert.equal(await page.textContent("label[for=pin]"), "コード");
  await page.screenshot({ path: join(RESULTS_DIR, "pin-ja.png"), fullPage: true });

  const [eml] = await waitFor("the PIN message in the outbox", () => outboxFiles(fixture).length === 1 && outboxFiles(fixture));
  await page.fill("#pin", pinFromEml(eml as string));
  const echoResponse = page.waitForResponse((response) => response.url() === `${urls.app}/`);
  await page.click("#submit");
  const echo = await echoResponse;

  assert.equal(echo.status(), 200, await echo.text());
  assert.equal(page.url(), `${urls.app}/`);
  const body = (await echo.json()) as { message: string; event: { headers: Record<string, string> } };
  assert.equal(body.message, "Hello from Lambda!");
  const headers = body.event.headers;
  assert.equal(headers["cf-access-authenticated-user-email"], "alice@example.com");
  const appCookie = (await context.cookies(urls.app)).find((cookie) => cookie.name === "CF_Authorization");
  assert.ok(appCookie, "the browser holds the app cookie");
  assert.equal(appCookie.httpOnly, true);
  assert.equal(appCookie.secure, true);
  assert.equal(headers["cf-access-jwt-assertion"], appCookie.value);
  for (const name of MTLS_HEADERS) assert.equal(typeof headers[name], "string", `${name} is present`);
  assert.equal(headers["x-amzn-mtls-clientcert-serial-number"], fixture.stack.prepared.originPull.info.serial);
  assert.equal(decodeURIComponent(headers["x-amzn-mtls-clientcert-leaf"] ?? ""), fixture.stack.prepared.originPull.certPem);
  assert.match(await page.textContent("body") ?? "", /cf-access-authenticated-user-email/);
});

test("browser login page in English", { skip: chromiumMissing }, async (t) => {
  const { fixture, page } = await openBrowser(t, "en-US");

  await openLoginPage(fixture, page);

  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.textContent("h1"), "Sign in to app");
  assert.equal(await page.textContent("label[for=email]"), "Email");
  assert.equal(await page.textContent("#submit"), "Send me a code");
  await page.screenshot({ path: join(RESULTS_DIR, "login-en.png"), fullPage: true });
});

test("browser disallowed email gets no PIN", { skip: chromiumMissing }, async (t) => {
  const { fixture, page } = await openBrowser(t, "en-US");
  await openLoginPage(fixture, page);

  await page.fill("#email", "mallory@evil.example");
  await page.click("#submit");
  await page.waitForSelector("#notice");

  assert.equal(await page.textContent("#notice"), "A code has been emailed to you. It expires in 10 minutes.");
  assert.equal(await page.isVisible("#pin"), true, "the PIN form is shown as for an allowed address");
  assert.deepEqual(outboxFiles(fixture), []);
  assert.deepEqual(fixture.pins, []);
  assert.ok(fixture.records.some((record) => record.event === "pin_not_sent" && record.email === "mallory@evil.example"));
});

/** Logs `email` in through the browser, from the login page to the echo page. */
async function logIn(fixture: StackFixture, page: Page, email: string): Promise<void> {
  await openLoginPage(fixture, page);
  const before = outboxFiles(fixture).length;
  await page.fill("#email", email);
  await page.click("#submit");
  await page.waitForSelector("#pin");
  const files = await waitFor("the PIN message in the outbox", () => outboxFiles(fixture).length > before && outboxFiles(fixture));
  await page.fill("#pin", pinFromEml(files.at(-1) as string));
  await Promise.all([page.waitForURL(`${fixture.stack.urls.app}/`), page.click("#submit")]);
}

test("browser logout leads back to login", { skip: chromiumMissing }, async (t) => {
  const { fixture, context, page } = await openBrowser(t, "en-US");
  const { urls } = fixture.stack;
  await logIn(fixture, page, "bob@example.com");

  const teamLogout = await page.goto(`${urls.team}/cdn-cgi/access/logout`);
  const appLogout = await page.goto(`${urls.app}/cdn-cgi/access/logout`);

  assert.equal(teamLogout?.status(), 200);
  assert.equal(appLogout?.status(), 200);
  assert.equal(await page.textContent("h1"), "Logged out");
  const cookies = await context.cookies([urls.app, urls.team]);
  assert.deepEqual(cookies.filter((cookie) => cookie.name === "CF_Authorization"), [], "no app or org cookie is left");
  await openLoginPage(fixture, page);
  assert.equal(await page.textContent("h1"), "Sign in to app");
});

// Cloudflare documents that /cdn-cgi/access/logout on the app host revokes the session for all applications.
// The local edge clears only the app cookie there, so the org cookie on the team domain logs the user in again.
test("browser app-host logout ends the session", { skip: chromiumMissing }, async (t) => {
  const { fixture, page } = await openBrowser(t, "en-US");
  const { urls } = fixture.stack;
  await logIn(fixture, page, "carol@example.com");

  const logout = await page.goto(`${urls.app}/cdn-cgi/access/logout`);

  assert.equal(logout?.status(), 200);
  await openLoginPage(fixture, page);
  assert.equal(await page.textContent("h1"), "Sign in to app");
});
