import assert from "node:assert/strict";
import { test } from "node:test";
import { AccessError, compileApplications, deriveAud, matchApplication, normalizeRequestPath } from "../../src/access/index.ts";
import { defaultConfigInput, parseConfig } from "../../src/config/index.ts";
import { compileDomains } from "./fixtures.ts";

const apps = compileDomains({
  wildcard: "*.example.com",
  apex: "example.com",
  alpha: "example.com/alpha/*",
  partial: "*test.example.com",
  twoLevel: "*.test.example.com",
  midPath: "example.com/foo*/bar",
  eng: "dashboard.com/eng",
  exec: "dashboard.com/eng/exec",
});

test("application matching table", () => {
  const cases: [string, string, string | undefined][] = [
    ["alpha.example.com", "/", "wildcard"],
    ["beta.example.com", "/any/path", "wildcard"],
    ["example.com", "/", "apex"],
    ["example.com", "", "apex"],
    ["example.com", "/beta", "apex"],
    ["foo.bar.example.com", "/", undefined],
    ["example.com", "/alpha", "apex"],
    ["example.com", "/alpha/one", "alpha"],
    ["example.com", "/alpha/two/three", "alpha"],
    ["example.com", "/alphabet", "apex"],
    ["test.example.com", "/", "partial"],
    ["alphatest.example.com", "/", "partial"],
    ["alpha.test.example.com", "/", "twoLevel"],
    ["example.com", "/foo/bar", "midPath"],
    ["example.com", "/food/bar", "midPath"],
    ["example.com", "/food/stuff/bar", "midPath"],
    ["example.com", "/food/stuff", "apex"],
    ["dashboard.com", "/eng", "eng"],
    ["dashboard.com", "/eng/tools", "eng"],
    ["dashboard.com", "/eng/exec", "exec"],
    ["dashboard.com", "/eng/exec/report", "exec"],
    ["dashboard.com", "/engineering", undefined],
    ["dashboard.com", "/", undefined],
    ["other.test", "/", undefined],
  ];
  for (const [host, path, expected] of cases) {
    assert.equal(matchApplication(apps, host, path)?.name, expected, `${host}${path}`);
  }
});

test("port, query and case are ignored", () => {
  const cases: [string, string, string | undefined][] = [
    ["example.com:8443", "/alpha/one", "alpha"],
    ["EXAMPLE.com", "/alpha/one", "alpha"],
    ["example.com.", "/alpha/one", "alpha"],
    ["example.com", "/alpha/one?x=1", "alpha"],
    ["example.com", "/alpha?next=/alpha/one", "apex"],
    ["example.com", "/beta#/alpha/one", "apex"],
  ];
  for (const [host, path, expected] of cases) {
    assert.equal(matchApplication(apps, host, path)?.name, expected, `${host}${path}`);
  }
});

test("path normalization before matching", () => {
  assert.equal(normalizeRequestPath("/beta/../alpha/one"), "/alpha/one");
  assert.equal(normalizeRequestPath("/%2e%2e/alpha/%6Fne"), "/alpha/one");
  assert.equal(normalizeRequestPath("/alpha%2Fone"), "/alpha%2Fone");
  assert.equal(matchApplication(apps, "example.com", "/beta/../alpha/one")?.name, "alpha");
  assert.equal(matchApplication(apps, "example.com", "/%61lpha/one")?.name, "alpha");
  assert.equal(matchApplication(apps, "dashboard.com", "/eng/./exec")?.name, "exec");
});

test("host map and default domain", () => {
  const config = parseConfig({
    ...defaultConfigInput(),
    access: {
      teamName: "acme",
      applications: [
        { name: "main", policies: [{ name: "all", decision: "allow", include: [{ everyone: true }] }] },
        { name: "admin", domain: "app.example.com/admin/*", policies: [{ name: "all", decision: "allow", include: [{ everyone: true }] }] },
      ],
    },
  });
  const local = compileApplications(config, (host) => host.replace(/\.example\.com$/, ".localhost"));
  assert.deepEqual(local.map((app) => app.domain), ["app.localhost", "app.localhost/admin/*"]);
  assert.equal(matchApplication(local, "app.localhost:8443", "/admin/users")?.name, "admin");
  assert.equal(matchApplication(local, "app.localhost:8443", "/home")?.name, "main");
  assert.equal(matchApplication(local, "app.example.com", "/home"), undefined);
});

test("aud is stable and pinnable", () => {
  const config = parseConfig({ ...defaultConfigInput(), access: { teamName: "acme", applications: defaultConfigInput().access.applications } });
  const [first] = compileApplications(config);
  const [again] = compileApplications(config);
  assert.match(first?.aud ?? "", /^[0-9a-f]{64}$/);
  assert.equal(first?.aud, again?.aud);
  assert.equal(first?.aud, deriveAud("acme", "app"));
  assert.notEqual(deriveAud("acme", "app"), deriveAud("other", "app"));

  const pinned = "ab".repeat(32);
  assert.equal(compileApplications(config, undefined, { app: pinned })[0]?.aud, pinned);
  assert.throws(
    () => compileApplications(config, undefined, { app: "not-hex" }),
    (error: AccessError) => error.code === "ERR_ACCESS_CONFIG" && error.message === 'AUD of application "app" must be 64 lowercase hex characters (got "not-hex")',
  );
  assert.throws(
    () => compileApplications(config, undefined, { missing: pinned }),
    (error: AccessError) => error.code === "ERR_ACCESS_CONFIG" && error.message === 'auds names the application "missing", which is not in access.applications',
  );
});

test("invalid domains are rejected", () => {
  const cases: [string, string][] = [
    ["https://app.example.com", 'application "bad": domain "https://app.example.com" must not have a scheme; write it as "app.example.com/path"'],
    ["app.example.com:8443", 'application "bad": domain "app.example.com:8443" must not have a port, because Access strips ports'],
    ["foo*bar*.example.com", 'application "bad": domain "foo*bar*.example.com" has more than one "*" in the host label "foo*bar*"; Access allows one per label'],
    ["example.com/foo*bar*baz", 'application "bad": domain "example.com/foo*bar*baz" has more than one "*" in the path segment "foo*bar*baz"; Access allows one per segment'],
    ["example.com/a?b=1", 'application "bad": domain "example.com/a?b=1" must not have a query string or fragment, because Access ignores them'],
    ["exa_mple.com", 'application "bad": domain "exa_mple.com" has an invalid host label "exa_mple"; use letters, digits, "-" and at most one "*"'],
  ];
  for (const [domain, message] of cases) {
    assert.throws(
      () => compileDomains({ bad: domain }),
      (error: AccessError) => {
        assert.equal(error.code, "ERR_ACCESS_CONFIG");
        assert.equal(error.message, message);
        return true;
      },
      domain,
    );
  }
});
