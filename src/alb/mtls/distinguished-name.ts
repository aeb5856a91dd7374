/**
 * Distinguished names as the ALB writes them in the X-Amzn-Mtls-Clientcert-Subject/-Issuer headers and the
 * connection log. The form is RFC 2253 as OpenSSL prints it with `-nameopt RFC2253` (XN_FLAG_RFC2253). RDNs come
 * in reverse order joined by ",", multi-valued RDNs are joined by "+", and `,+"\<>;` are escaped.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import type { Name } from "@peculiar/asn1-x509";

/** OpenSSL's short names for attribute types. A type without one is printed as its dotted OID. */
const SHORT_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.13": "description",
  "2.5.4.15": "businessCategory",
  "2.5.4.17": "postalCode",
  "2.5.4.41": "name",
  "2.5.4.42": "GN",
  "2.5.4.43": "initials",
  "2.5.4.44": "generationQualifier",
  "2.5.4.46": "dnQualifier",
  "2.5.4.65": "pseudonym",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
  "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
  "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
  "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
  "2.5.4.97": "organizationIdentifier",
};

const SPECIAL = new Set([",", "+", '"', "\\", "<", ">", ";"]);

function hexByte(byte: number): string {
  return `\\${byte.toString(16).toUpperCase().padStart(2, "0")}`;
}

/** Escapes one attribute value the way OpenSSL's RFC 2253 mode does, including bytes above 0x7F as \XX. */
export function escapeAttributeValue(value: string): string {
  const bytes = Buffer.from(value, "utf8");
  let output = "";
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index] as number;
    const character = String.fromCharCode(byte);
    const first = index === 0;
    const last = index === bytes.length - 1;
    if (byte < 0x20 || byte >= 0x7f) output += hexByte(byte);
    else if (SPECIAL.has(character)) output += `\\${character}`;
    else if ((first && (character === "#" || character === " ")) || (last && character === " ")) output += `\\${character}`;
    else output += character;
  }
  return output;
}

function attributeText(type: string, value: Name[number][number]["value"]): string {
  const shortName = SHORT_NAMES[type];
  const text = value.utf8String ?? value.printableString ?? value.ia5String ?? value.bmpString ?? value.universalString ?? value.teletexString;
  if (shortName === undefined || text === undefined) {
    // An unknown type, or a value that is no string, is printed as "#" and the hex of its DER encoding.
    const der = value.anyValue ?? AsnConvert.serialize(value);
    return `${shortName ?? type}=#${Buffer.from(der).toString("hex").toUpperCase()}`;
  }
  return `${shortName}=${escapeAttributeValue(text)}`;
}

/** Formats a parsed X.501 name as an RFC 2253 string, such as "CN=client,O=Example,C=US". */
export function formatRfc2253(name: Name): string {
  const rdns: string[] = [];
  for (let index = name.length - 1; index >= 0; index--) {
    const rdn = name[index] ?? [];
    rdns.push(rdn.map((attribute) => attributeText(attribute.type, attribute.value)).join("+"));
  }
  return rdns.join(",");
}
