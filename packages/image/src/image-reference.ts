/**
 * Image references as the docker reference grammar defines them (github.com/distribution/reference),
 * normalised the way containerd's CRI plugin and kubelet expect:
 *
 *   busybox                      → docker.io/library/busybox:latest
 *   user/repo                    → docker.io/user/repo:latest
 *   index.docker.io/user/repo    → docker.io/user/repo:latest
 *   localhost:5000/a/b@sha256:…  → localhost:5000/a/b@sha256:…        (no tag added next to a digest)
 *
 * Grammar (regexp.go of distribution/reference):
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port]         host := domain-name | "[" IPv6 "]"
 *   path-comp  := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex       (sha256: 64 hex, sha384: 96, sha512: 128, lowercase)
 */
import { InvalidArgumentError } from '@crikit/core';

/** The registry of references without a domain. */
export const DEFAULT_REGISTRY = 'docker.io';
/** The tag of references without a tag or digest. */
export const DEFAULT_TAG = 'latest';

const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
/** distribution/reference NameTotalLengthMax: the whole name, domain included. */
const NAME_TOTAL_LENGTH_MAX = 255;

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|-+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[[a-fA-F0-9:]+\\]';
const domainAndPort = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const DOMAIN_RE = new RegExp(`^${domainAndPort}$`);
const PATH_RE = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const TAG_RE = new RegExp(`^${tagPattern}$`);
const DIGEST_RE = new RegExp(`^${digestPattern}$`);
/** A bare 64-hex string is an image id, never a repository (ParseNormalizedNamed refuses it). */
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** Hex lengths of the digest algorithms go-digest accepts. */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * A parsed, normalised image reference. Immutable. `toString()` is the fully qualified form
 * (`docker.io/library/busybox:latest`), `familiarName` the short one kubectl shows (`busybox`).
 */
export class ImageReference {
  private constructor(
    /** `docker.io`, `registry.k8s.io`, `127.0.0.1:5000`, `[::1]:5000` (never `index.docker.io`). */
    readonly registry: string,
    /** The path inside the registry, lowercase: `library/busybox`. */
    readonly repository: string,
    /** The tag; `latest` when the input had neither tag nor digest, undefined with a digest alone. */
    readonly tag: string | undefined,
    /** `sha256:<64 hex>` when the input pinned one; it wins over the tag when fetching. */
    readonly digest: string | undefined,
  ) {}

  /**
   * Parses and normalises `input`. Pure; the same input always gives the same reference.
   * @throws InvalidArgumentError naming the input and what is wrong with it
   */
  static parse(input: string): ImageReference {
    const fail = (why: string): never => {
      throw new InvalidArgumentError(`parse image reference "${input}": ${why}`);
    };
    if (input === '') fail('empty reference');
    if (input !== input.trim()) fail('leading or trailing whitespace');
    if (IDENTIFIER_RE.test(input)) fail('a 64-character hexadecimal string is an image id, not a repository name');

    let rest = input;
    let digest: string | undefined;
    const at = rest.indexOf('@');
    if (at !== -1) {
      digest = rest.slice(at + 1);
      rest = rest.slice(0, at);
      checkDigest(digest, fail);
    }
    // A tag follows the last ':' unless that ':' belongs to a domain's port (then a '/' comes after it).
    let tag: string | undefined;
    const colon = rest.lastIndexOf(':');
    if (colon !== -1 && !rest.slice(colon + 1).includes('/')) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
      if (!TAG_RE.test(tag)) fail(`invalid tag "${tag}": up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'`);
    }

    const [registry, repository] = splitDomain(rest);
    if (registry !== DEFAULT_REGISTRY && !DOMAIN_RE.test(registry)) fail(`invalid registry host "${registry}"`);
    if (repository === '') fail('missing repository name');
    if (repository.toLowerCase() !== repository) fail(`repository name "${repository}" must be lowercase`);
    if (!PATH_RE.test(repository)) {
      fail(`invalid repository name "${repository}": components of lowercase letters and digits separated by '/', with '.', '_', '__' or '-' inside a component`);
    }
    const name = `${registry}/${repository}`;
    if (name.length > NAME_TOTAL_LENGTH_MAX) fail(`repository name must not be longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
    // CRI: a reference with neither tag nor digest means `:latest` (kubelet relies on this normalisation).
    if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
    return new ImageReference(registry, repository, tag, digest);
  }

  /** `registry/repository`, without tag or digest: `docker.io/library/busybox`. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** The name as users write it: `busybox`, `user/repo`, `quay.io/a/b` (docker.io and `library/` dropped). */
  get familiarName(): string {
    if (this.registry !== DEFAULT_REGISTRY) return this.name;
    const rest = this.repository;
    if (rest.startsWith(OFFICIAL_REPO_PREFIX) && !rest.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
      return rest.slice(OFFICIAL_REPO_PREFIX.length);
    }
    return rest;
  }

  /** The familiar name with tag and digest: `busybox:latest`. */
  get familiar(): string {
    return this.familiarName + this.suffix();
  }

  /** What to ask the registry's manifests endpoint for: the digest when there is one, else the tag. */
  get object(): string {
    return this.digest ?? this.tag ?? DEFAULT_TAG;
  }

  /** The same repository pinned to `digest`, without tag: what CRI reports as a repo digest. */
  withDigest(digest: string): ImageReference {
    checkDigest(digest, why => {
      throw new InvalidArgumentError(`pin image reference "${this.toString()}" to "${digest}": ${why}`);
    });
    return new ImageReference(this.registry, this.repository, undefined, digest);
  }

  /** The same repository with `tag` and no digest. @throws InvalidArgumentError on an invalid tag */
  withTag(tag: string): ImageReference {
    if (!TAG_RE.test(tag)) throw new InvalidArgumentError(`tag image reference "${this.name}" as "${tag}": invalid tag`);
    return new ImageReference(this.registry, this.repository, tag, undefined);
  }

  /** The fully qualified reference: `docker.io/library/busybox:latest`, `host/repo:tag@sha256:…`. */
  toString(): string {
    return this.name + this.suffix();
  }

  /** Same as `toString()`, so references serialise as strings. */
  toJSON(): string {
    return this.toString();
  }

  private suffix(): string {
    return (this.tag !== undefined ? `:${this.tag}` : '') + (this.digest !== undefined ? `@${this.digest}` : '');
  }
}

/**
 * Splits `name` into registry and repository as splitDockerDomain does: the first component is a
 * domain when it contains '.' or ':', is `localhost`, or has uppercase letters (repository paths cannot).
 */
function splitDomain(name: string): [registry: string, repository: string] {
  const slash = name.indexOf('/');
  if (slash === -1) return [DEFAULT_REGISTRY, OFFICIAL_REPO_PREFIX + name];
  const first = name.slice(0, slash);
  const remainder = name.slice(slash + 1);
  let registry: string;
  let repository: string;
  if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    registry = first === LEGACY_DEFAULT_REGISTRY ? DEFAULT_REGISTRY : first;
    repository = remainder;
  } else {
    registry = DEFAULT_REGISTRY;
    repository = name;
  }
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = OFFICIAL_REPO_PREFIX + repository;
  return [registry, repository];
}

/** Validates a digest as go-digest does: known algorithm, exact hex length, lowercase hex. */
function checkDigest(digest: string, fail: (why: string) => never): void {
  if (!DIGEST_RE.test(digest)) fail(`invalid digest "${digest}": expected <algorithm>:<hex>`);
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) fail(`unsupported digest algorithm "${algorithm}"`);
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    fail(`invalid digest "${digest}": ${algorithm} needs ${length} lowercase hexadecimal characters`);
  }
}
