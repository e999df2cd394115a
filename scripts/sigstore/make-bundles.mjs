// Makes Sigstore bundles with the real clients against a local mock Sigstore
// (Fulcio, CT log, Rekor v1, TSA from @sigstore/mock, served over HTTP on
// 127.0.0.1), and writes the trusted_root.json those services correspond to.
//
// Run by scripts/make-sigstore-bundles.sh, which installs the clients.
// Environment:
//   SIGJS_DIR   directory holding node_modules with sigstore, @sigstore/cli, @sigstore/mock
//   OUT         output directory (the committed test data)
//   SIGSTORE_PY optional: path of the sigstore-python CLI, to sign with it too
//
// Nothing here reaches the network beyond 127.0.0.1.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const SIGJS_DIR = process.env.SIGJS_DIR;
const OUT = process.env.OUT;
if (!SIGJS_DIR || !OUT) {
  throw new Error('set SIGJS_DIR and OUT');
}
// The clients live outside the repository; resolve them from there.
const require = createRequire(path.join(path.resolve(SIGJS_DIR), 'package.json'));
const mock = require('@sigstore/mock');
const sigstore = require('sigstore');
// The verifier and types sigstore itself depends on (the CLI pins older ones).
const sigstoreRequire = createRequire(require.resolve('sigstore'));
const { TrustedRoot } = sigstoreRequire('@sigstore/protobuf-specs');
const { bundleFromJSON } = sigstoreRequire('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = sigstoreRequire('@sigstore/verify');

// The identity the mock Fulcio certifies: it puts the token's `sub` in a URI
// SAN and its `iss` in the issuer extensions.
const IDENTITY = 'https://github.com/bosun-test/signer/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

const b64 = (buf) => Buffer.from(buf).toString('base64');
const b64url = (s) => Buffer.from(s).toString('base64url');
const spki = (key) => key.export({ format: 'der', type: 'spki' });
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest();
const p256 = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

// An unsigned JWT: the mock Fulcio and sigstore-python only decode it.
function identityToken() {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'none', typ: 'JWT' };
  const claims = {
    iss: ISSUER,
    sub: IDENTITY,
    aud: 'sigstore',
    iat: now,
    nbf: now,
    exp: now + 600,
  };
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.`;
}

// sigstore-python sends the identity token as a bearer token and the CSR as
// base64 of the PEM text (Fulcio's protobuf `bytes` field); the mock reads
// the token only from the body and hands the CSR to a parser that expects
// PEM or base64 DER. Accept both as real Fulcio does.
function fulcioRequestForMock(body, headers) {
  const json = JSON.parse(body);
  const bearer = /^Bearer (.+)$/.exec(headers.authorization || '');
  if (!json.credentials && bearer) {
    json.credentials = { oidcIdentityToken: bearer[1] };
  }
  const csr = json.certificateSigningRequest;
  if (typeof csr === 'string' && !csr.includes('-----BEGIN')) {
    const decoded = Buffer.from(csr, 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN')) {
      json.certificateSigningRequest = decoded;
    }
  }
  return JSON.stringify(json);
}

// RFC 9162 Merkle tree hashing (section 2.1).
const leafHash = (data) => crypto.createHash('sha256').update(Buffer.from([0])).update(data).digest();
const nodeHash = (l, r) => crypto.createHash('sha256').update(Buffer.from([1])).update(l).update(r).digest();
// Largest power of two smaller than n (n > 1).
const split = (n) => 2 ** Math.floor(Math.log2(n - 1));
function treeHash(leaves) {
  if (leaves.length === 1) {
    return leaves[0];
  }
  const k = split(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}
// The audit path of leaf m, leaf to root (RFC 9162 section 2.1.3.1).
function auditPath(m, leaves) {
  if (leaves.length === 1) {
    return [];
  }
  const k = split(leaves.length);
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), treeHash(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

// The mock Rekor proves each entry as the only leaf of a fresh one-leaf tree:
// its proofs have index 0 and no hashes, which proto3 JSON then omits. Make
// it a real append-only log: one tree, seeded with other leaves, so every
// proof has a non-zero index and a real audit path, under a checkpoint
// (a signed note: origin, size, root, Rekor's timestamp line) signed by the
// log key, with the key hint Rekor uses (the first 4 bytes of the log ID).
function appendOnlyLog(tlog, url, key) {
  const origin = `${new URL(url).host} - ${crypto.randomInt(2 ** 47)}`;
  const keyHint = sha256(spki(key.publicKey)).subarray(0, 4);
  const leaves = Array.from({ length: crypto.randomInt(1000, 3000) }, () => leafHash(crypto.randomBytes(32)));
  tlog.calculateInclusionProof = ({ body, timestamp }) => {
    leaves.push(leafHash(body));
    const index = leaves.length - 1;
    const root = treeHash(leaves);
    const note = `${origin}\n${leaves.length}\n${root.toString('base64')}\nTimestamp: ${BigInt(timestamp) * 1_000_000_000n}\n`;
    const sig = crypto.sign('sha256', Buffer.from(note), key.privateKey);
    const checkpoint = `${note}\n\u2014 ${new URL(url).host} ${Buffer.concat([keyHint, sig]).toString('base64')}\n`;
    return {
      logIndex: index,
      treeSize: leaves.length,
      rootHash: root.toString('hex'),
      hashes: auditPath(index, leaves).map((h) => h.toString('hex')),
      checkpoint,
    };
  };
}

// Rekor re-encodes a key or certificate as Go's encoding/pem writes it
// (64-character lines); the mock Fulcio's PEM is one long line, and
// sigstore-python rebuilds the entry with wrapped PEM to compare it.
function canonicalPEM(b64) {
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) {
    throw new Error('verifier is not PEM');
  }
  const body = m[2].replace(/\s/g, '').match(/.{1,64}/g).join('\n');
  return Buffer.from(`-----BEGIN ${m[1]}-----\n${body}\n-----END ${m[1]}-----\n`).toString('base64');
}

// Real Rekor files the canonical form of an entry, not the proposed one; the
// mock files what it is sent. Do what Rekor does (per the hashedrekord 0.0.1,
// dsse 0.0.1 and intoto 0.0.2 type definitions), so the bundles carry what a
// verifier sees in production.
function canonicalRekorEntry(body) {
  const entry = JSON.parse(body);
  const kind = `${entry.kind} ${entry.apiVersion}`;
  if (kind === 'hashedrekord 0.0.1') {
    const key = entry.spec.signature.publicKey;
    key.content = canonicalPEM(key.content);
  } else if (kind === 'dsse 0.0.1') {
    const { envelope, verifiers } = entry.spec.proposedContent;
    const parsed = JSON.parse(envelope);
    if (verifiers.length !== 1) {
      throw new Error('expected one verifier in the proposed dsse entry');
    }
    entry.spec = {
      envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope)).toString('hex') },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(parsed.payload, 'base64')).toString('hex') },
      signatures: parsed.signatures.map((sig) => ({ signature: sig.sig, verifier: canonicalPEM(verifiers[0]) })),
    };
  } else if (kind === 'intoto 0.0.2') {
    // Rekor keeps the hashes and signatures but not the payload.
    const env = entry.spec.content.envelope;
    delete env.payload;
    for (const sig of env.signatures) {
      sig.publicKey = canonicalPEM(sig.publicKey);
    }
  } else {
    throw new Error(`unexpected Rekor entry kind ${kind}`);
  }
  return JSON.stringify(entry);
}

// A tiny HTTP front for the mock handlers; `server.routes` is filled in once
// the port (which the Rekor checkpoint names) is known.
function serve(routes) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const route = server.routes[req.url];
      if (req.method !== 'POST' || !route) {
        log(`mock: no route for ${req.method} ${req.url}`);
        res.writeHead(404).end(`no mock at ${req.method} ${req.url}`);
        return;
      }
      const { statusCode, response, contentType } = await route(Buffer.concat(chunks).toString('utf8'), req.headers);
      log(`mock: ${req.url} -> ${statusCode}${statusCode >= 300 ? `: ${response}` : ''}`);
      res.writeHead(statusCode, { 'Content-Type': contentType || 'text/plain' });
      res.end(response);
    });
  });
  server.routes = routes;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}`))));
  });
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  // Before any key or certificate exists, so every validity window starts after it.
  const start = new Date(Date.now() - 60_000).toISOString();

  // One origin per service: sigstore-python joins absolute API paths onto
  // the service URL, so a path prefix would be dropped.
  const [fulcioServer, rekorServer, tsaServer] = await Promise.all([serve({}), serve({}), serve({})]);
  const origin = (server) => `http://127.0.0.1:${server.address().port}`;
  const fulcioURL = origin(fulcioServer);
  const rekorURL = origin(rekorServer);
  const tsaURL = origin(tsaServer);

  // One key per service, so a verifier that mixes them up fails.
  const caKey = p256();
  const ctKey = p256();
  const rekorKey = p256();
  const tsaKey = p256();
  const ctlog = await mock.initializeCTLog(ctKey);
  const ca = await mock.initializeCA(caKey, ctlog);
  const tlog = await mock.initializeTLog(rekorURL, rekorKey);
  appendOnlyLog(tlog, rekorURL, rekorKey);
  const tsa = await mock.initializeTSA(tsaKey);
  // The mock stamps milliseconds, and DER drops trailing zeros (".93Z"),
  // which sigstore-js 4.1.1's own parser rejects (it wants three digits).
  // Whole seconds parse everywhere.
  tsa.getCurrentTime = () => new Date(Math.floor(Date.now() / 1000) * 1000);

  const fulcio = mock.fulcioHandler(ca);
  const rekor = mock.rekorHandler(tlog);
  const timestamp = mock.tsaHandler(tsa);
  fulcioServer.routes[fulcio.path] = (body, headers) => fulcio.fn(fulcioRequestForMock(body, headers));
  rekorServer.routes[rekor.path] = (body) => rekor.fn(canonicalRekorEntry(body));
  tsaServer.routes[timestamp.path] = timestamp.fn;

  // The mock TSA's chain: a signing certificate under a self-signed root.
  const tsaChain = [tsa.intCertificate, tsa.rootCertificate];
  const trustedRootJSON = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: rekorURL,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(spki(rekorKey.publicKey)),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start },
        },
        logId: { keyId: b64(sha256(spki(rekorKey.publicKey))) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: fulcioURL,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: `${fulcioURL}/ctlog`,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(spki(ctKey.publicKey)),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start },
        },
        logId: { keyId: b64(ctlog.logID) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: tsaURL,
        certChain: { certificates: tsaChain.map((c) => ({ rawBytes: b64(c) })) },
        validFor: { start },
      },
    ],
  };
  // Round-trip through the protobuf-specs type: a field it does not know or
  // a value of the wrong type would not survive.
  const trustedRoot = TrustedRoot.fromJSON(trustedRootJSON);
  const roundTrip = TrustedRoot.toJSON(trustedRoot);
  if (JSON.stringify(roundTrip) !== JSON.stringify(trustedRootJSON)) {
    throw new Error(`trusted root does not round-trip:\n${JSON.stringify(roundTrip, null, 1)}`);
  }
  fs.writeFileSync(path.join(OUT, 'trusted_root.json'), `${JSON.stringify(trustedRootJSON, null, 2)}\n`);

  // sigstore-python wants a ClientTrustConfig: the root plus where to sign.
  const service = (url) => ({ url, majorApiVersion: 1, validFor: { start }, operator: 'bosun-mock' });
  const trustConfig = {
    mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
    trustedRoot: trustedRootJSON,
    signingConfig: {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [service(fulcioURL)],
      oidcUrls: [],
      rekorTlogUrls: [service(rekorURL)],
      tsaUrls: [],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
    },
  };
  const trustConfigPath = path.join(OUT, 'client_trust_config.json');
  fs.writeFileSync(trustConfigPath, `${JSON.stringify(trustConfig, null, 2)}\n`);

  const artifact = Buffer.from('bosun test artifact, signed by the real Sigstore clients against a local mock\n');
  fs.writeFileSync(path.join(OUT, 'artifact.txt'), artifact);
  const statement = Buffer.from(
    `${JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'artifact.txt', digest: { sha256: sha256(artifact).toString('hex') } }],
      predicateType: 'https://bosun.test/predicate/v1',
      predicate: { note: 'made by scripts/sigstore/make-bundles.mjs' },
    })}\n`,
  );
  fs.writeFileSync(path.join(OUT, 'statement.json'), statement);

  const token = identityToken();
  const opts = { fulcioURL, rekorURL, identityToken: token };
  const write = (name, bundle) => {
    fs.writeFileSync(path.join(OUT, name), `${JSON.stringify(bundle, null, 2)}\n`);
    log(`wrote ${name}`);
  };

  // sigstore-js, library API: the bundle builders every npm provenance uses.
  write('js-message.sigstore.json', await sigstore.sign(artifact, opts));
  write('js-message-tsa.sigstore.json', await sigstore.sign(artifact, { ...opts, tsaServerURL: tsaURL }));
  write('js-dsse.sigstore.json', await sigstore.attest(statement, 'application/vnd.in-toto+json', opts));
  write(
    'js-dsse-tsa.sigstore.json',
    await sigstore.attest(statement, 'application/vnd.in-toto+json', { ...opts, tsaServerURL: tsaURL }),
  );
  // legacyCompatibility: a v0.2 bundle with a certificate chain and a Rekor
  // intoto 0.0.2 entry, as npm provenance was made before the dsse type.
  write(
    'js-dsse-legacy.sigstore.json',
    await sigstore.attest(statement, 'application/vnd.in-toto+json', { ...opts, legacyCompatibility: true }),
  );

  // sigstore-js, command line: `sigstore attest` takes the token from
  // SIGSTORE_ID_TOKEN when CI is set.
  const cli = path.join(path.dirname(require.resolve('@sigstore/cli/package.json')), 'bin', 'run');
  const statementPath = path.join(OUT, 'statement.json');
  await run(
    process.execPath,
    [cli, 'attest', statementPath, '--fulcio-url', fulcioURL, '--rekor-url', rekorURL,
      '--tsa-server-url', tsaURL, '-o', path.join(OUT, 'cli-attest.sigstore.json')],
    { CI: 'true', SIGSTORE_ID_TOKEN: token },
  );
  log('wrote cli-attest.sigstore.json');

  // sigstore-python as a signer, against the same services (Rekor v1, no
  // TSA: the mock TSA speaks only the JSON API sigstore-js uses).
  if (process.env.SIGSTORE_PY) {
    const py = process.env.SIGSTORE_PY;
    const tmp = fs.mkdtempSync(path.join(OUT, '.py-'));
    const artifactCopy = path.join(tmp, 'artifact.txt');
    fs.copyFileSync(path.join(OUT, 'artifact.txt'), artifactCopy);
    await run(py, ['--trust-config', trustConfigPath, 'sign', '--identity-token', token,
      '--bundle', path.join(OUT, 'py-message.sigstore.json'), artifactCopy]);
    log('wrote py-message.sigstore.json');
    await run(py, ['--trust-config', trustConfigPath, 'attest', '--identity-token', token,
      '--predicate-type', 'https://slsa.dev/provenance/v1', '--predicate', predicateFile(tmp),
      '--bundle', path.join(OUT, 'py-dsse.sigstore.json'), artifactCopy]);
    log('wrote py-dsse.sigstore.json');
    fs.rmSync(tmp, { recursive: true });
  }
  for (const server of [fulcioServer, rekorServer, tsaServer]) {
    server.close();
  }

  // sigstore-js's own verifier, offline, on everything written: each must
  // pass as made and fail for another identity; message signatures also for
  // a modified artifact (for DSSE, sigstore-js leaves the subject to the caller).
  const verifier = new Verifier(toTrustMaterial(trustedRoot), { tsaThreshold: 0 });
  const policy = (san) => ({ subjectAlternativeName: san, extensions: { issuer: ISSUER } });
  const verdict = (bundle, data, san) => {
    try {
      verifier.verify(toSignedEntity(bundle, data), policy(san));
      return 'PASS';
    } catch (e) {
      return `FAIL (${e.code || ''} ${e.message})`;
    }
  };
  const lines = [];
  let unexpected = false;
  const record = (name, what, got, want) => {
    const ok = got.startsWith(want);
    unexpected ||= !ok;
    lines.push(`${name}: ${what}: ${got} [${ok ? 'ok' : 'UNEXPECTED'}]`);
  };
  for (const name of fs.readdirSync(OUT).filter((n) => n.endsWith('.sigstore.json')).sort()) {
    const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(path.join(OUT, name), 'utf8')));
    const message = bundle.content.$case === 'messageSignature';
    const data = message ? artifact : undefined;
    record(name, 'as made', verdict(bundle, data, IDENTITY), 'PASS');
    record(name, 'wrong identity', verdict(bundle, data, `${IDENTITY}x`), 'FAIL');
    if (message) {
      record(name, 'modified artifact', verdict(bundle, Buffer.concat([artifact, Buffer.from('x')]), IDENTITY), 'FAIL');
    }
  }
  fs.writeFileSync(path.join(OUT, 'PROOF-sigstore-js.txt'), `${lines.join('\n')}\n`);
  log(lines.join('\n'));
  if (unexpected) {
    throw new Error('sigstore-js verdicts not as expected');
  }
}

function predicateFile(dir) {
  const p = path.join(dir, 'predicate.json');
  // sigstore-python attests only SLSA provenance, and checks its shape.
  const predicate = {
    buildDefinition: { buildType: 'https://bosun.test/build/v1', externalParameters: {} },
    runDetails: { builder: { id: 'https://bosun.test/builder' } },
  };
  fs.writeFileSync(p, JSON.stringify(predicate));
  return p;
}

await main();
