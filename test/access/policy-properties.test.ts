import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { cidrContains, couldEmailBeAllowed, evaluatePolicies, globMatches, parseAddress, parseCidr } from "../../src/access/index.ts";
import { compileApp, type PolicyInput } from "./fixtures.ts";

const CONTEXT = { ip: "192.0.2.10", country: "JP" };
const label = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const domain = fc.tuple(label, fc.constantFrom("com", "net", "org", "jp")).map(([name, tld]) => `${name}.${tld}`);
const localPart = fc.stringMatching(/^[a-z][a-z0-9+_-]{0,6}(\.[a-z0-9+_-]{1,4})?$/);
const email = fc.tuple(localPart, domain).map(([local, host]) => `${local}@${host}`);

test("email domain never matches a suffix or substring", () => {
  fc.assert(
    fc.property(domain, localPart, fc.stringMatching(/^[a-z0-9-]{1,6}$/), (allowed, local, extra) => {
      const app = compileApp([{ name: "domain", decision: "allow", include: [{ emailDomain: allowed }] }]);
      assert.equal(couldEmailBeAllowed(app, `${local}@${allowed}`, CONTEXT), true);
      assert.equal(couldEmailBeAllowed(app, `${local}@${extra}${allowed}`, CONTEXT), false);
      assert.equal(couldEmailBeAllowed(app, `${local}@${extra}.${allowed}`, CONTEXT), false);
      assert.equal(couldEmailBeAllowed(app, `${local}@${allowed}.${extra}`, CONTEXT), false);
      assert.equal(couldEmailBeAllowed(app, `${local}@${allowed.slice(1)}`, CONTEXT), false);
    }),
  );
});

test("exclude always wins", () => {
  const includeFor = (target: string) =>
    fc.constantFrom<PolicyInput["include"][number]>({ everyone: true }, { email: target }, { emailDomain: target.split("@")[1] as string });
  fc.assert(
    fc.property(
      email.chain((target) => fc.tuple(fc.constant(target), includeFor(target), fc.boolean())),
      ([target, include, excludeByDomain]) => {
        const exclude = excludeByDomain ? { emailDomain: target.split("@")[1] as string } : { email: target.toUpperCase() };
        const app = compileApp([{ name: "p", decision: "allow", include: [include], exclude: [exclude] }]);
        assert.equal(evaluatePolicies(app, { ...CONTEXT, email: target }, "identity").decision, "deny");
      },
    ),
  );
});

test("unrelated allowed email changes nothing", () => {
  fc.assert(
    fc.property(fc.uniqueArray(email, { minLength: 1, maxLength: 8 }), email, email, (allowed, probe, added) => {
      fc.pre(added.toLowerCase() !== probe.toLowerCase());
      const policies = (emails: string[]): PolicyInput[] => [{ name: "list", decision: "allow", include: emails.map((value) => ({ email: value })) }];
      const before = couldEmailBeAllowed(compileApp(policies(allowed)), probe, CONTEXT);
      const after = couldEmailBeAllowed(compileApp(policies([...allowed, added])), probe, CONTEXT);
      assert.equal(after, before);
    }),
  );
});

test("forbidden before login means never allowed", () => {
  const selector = fc.oneof(
    email.map((value) => ({ email: value })),
    domain.map((value) => ({ emailDomain: value })),
    fc.constantFrom({ geo: "JP" }, { geo: "US" }, { ip: "192.0.2.0/24" }, { ip: "198.51.100.0/24" }, { everyone: true as const }),
  );
  const policy = fc.record({
    decision: fc.constantFrom("allow" as const, "deny" as const),
    include: fc.array(selector, { minLength: 1, maxLength: 3 }),
    require: fc.array(selector, { maxLength: 2 }),
    exclude: fc.array(selector, { maxLength: 2 }),
  });
  fc.assert(
    fc.property(fc.array(policy, { minLength: 1, maxLength: 4 }), fc.array(email, { minLength: 1, maxLength: 5 }), (policies, probes) => {
      const app = compileApp(policies.map((value, index) => ({ name: `p${index}`, ...value })));
      const candidates = [...probes, ...app.policies.flatMap((compiled) => [...compiled.include.emails, ...compiled.require.emails, ...[...compiled.include.emailDomains].map((host) => `x@${host}`)])];
      const before = evaluatePolicies(app, CONTEXT, "request").decision;
      const anyAllowed = candidates.some((candidate) => couldEmailBeAllowed(app, candidate, CONTEXT));
      if (anyAllowed) assert.equal(before, "login");
      if (before === "forbidden") assert.equal(anyAllowed, false);
    }),
  );
});

test("ipv4-mapped address matches as ipv4", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  const ipv4 = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join("."));
  fc.assert(
    fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (address, network, prefix) => {
      const block = parseCidr(`${network}/${prefix}`);
      const plain = parseAddress(address);
      const mapped = parseAddress(`::ffff:${address}`);
      assert.ok(block !== undefined);
      assert.ok(plain !== undefined);
      assert.ok(mapped !== undefined);
      assert.equal(cidrContains(block, mapped), cidrContains(block, plain));
      assert.equal(cidrContains(block, plain), prefixEqual(address, network, prefix));
    }),
  );
});

function prefixEqual(left: string, right: string, prefix: number): boolean {
  const bits = (value: string) => value.split(".").map((part) => Number(part).toString(2).padStart(8, "0")).join("");
  return bits(left).slice(0, prefix) === bits(right).slice(0, prefix);
}

test("glob agrees with a regular expression", () => {
  const pattern = fc.stringMatching(/^[ab/*]{0,8}$/).filter((value) => !value.includes("**"));
  const text = fc.stringMatching(/^[ab/]{0,12}$/);
  fc.assert(
    fc.property(pattern, text, (glob, value) => {
      const regex = new RegExp(`^${glob.replaceAll("*", ".*")}$`, "s");
      assert.equal(globMatches(glob, value), regex.test(value));
    }),
    { numRuns: 2000 },
  );
});
