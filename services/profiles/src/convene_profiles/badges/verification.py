"""Open Badges verification: OB 2.0 (hosted or signed JWS) and OB 3.0 (VC-JWT).

What is supported, check by check:
- signature: OB2 hosted: the assertion is fetched from its own `id` URL (allow-listed hosts)
  and that URL is on the issuer's host (or one of its verification.allowedOrigins).
  OB2 signed and OB3: the JWS is verified (ES256, EdDSA, RS256) with the issuer's key from the
  trusted-issuer registry; for a `did:jwk:` issuer, with the key inside the DID.
- issuer: the issuer id (URL or DID) is in the trusted-issuer registry.
- expiry: OB2 `expires`; OB3 `validUntil`, `expirationDate` or the JWT `exp`.
- revocation: OB2 hosted: the fetched assertion's `revoked` field; every format: the registry's
  revoked-id list; OB3 `credentialStatus` of type 1EdTechRevocationList, fetched through the
  allow-listed fetch. Other status types cannot be checked, so the badge stays unverified.
- recipient: OB2 `recipient.identity` (plain, or `sha256$` hash with optional salt); OB3
  `credentialSubject.id` = `mailto:<email>` or a `credentialSubject.identifier` entry of
  identityType emailAddress (plain or hashed), compared with the citizen's email.

Input that cannot be parsed as a badge at all raises InvalidBadgeError (422); anything that
parses but fails a check is kept with verified=false and the reasons in `errors`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt

from convene_profiles.badges.fetch import FetchError, fetch_json
from convene_profiles.errors import InvalidBadgeError

SUPPORTED_ALGORITHMS = ("ES256", "EdDSA", "RS256")


@dataclass(frozen=True)
class TrustedIssuer:
    id: str
    name: str
    public_key_jwk: dict[str, Any] | None
    revoked_credential_ids: frozenset[str]


IssuerLookup = Callable[[str], Awaitable[TrustedIssuer | None]]


@dataclass
class VerificationContext:
    client: httpx.AsyncClient
    allowed_hosts: list[str]
    max_bytes: int
    lookup_issuer: IssuerLookup
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def fetch(self, url: str) -> Any:
        return await fetch_json(
            self.client, url, allowed_hosts=self.allowed_hosts, max_bytes=self.max_bytes
        )


@dataclass
class VerifiedBadge:
    format: str
    name: str
    description: str
    criteria: str | None
    issuer_id: str | None
    issuer_name: str | None
    issued_on: datetime | None
    expires_at: datetime | None
    raw_credential: Any
    checks: dict[str, bool]
    errors: list[str]

    @property
    def verified(self) -> bool:
        return all(self.checks.values()) and not self.errors

    def verification(self) -> dict[str, Any]:
        return {"checks": self.checks, "errors": self.errors}


def _fresh_checks() -> dict[str, bool]:
    return dict.fromkeys(("signature", "issuer", "expiry", "revocation", "recipient"), False)


def _parse_time(value: Any, *, what: str, errors: list[str]) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        errors.append(f"{what} is not a valid date: {str(value)[:40]!r}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _hash_matches(identity_hash: str, salt: str | None, email: str) -> bool:
    algorithm, _, digest = identity_hash.partition("$")
    if algorithm.lower() not in ("sha256", "md5") or not digest:
        return False
    for candidate in {email, email.lower()}:
        computed = hashlib.new(algorithm.lower(), (candidate + (salt or "")).encode()).hexdigest()
        if hmac.compare_digest(computed.lower(), digest.lower()):
            return True
    return False


def _email_matches(identity: str, email: str) -> bool:
    return identity.strip().lower() == email.strip().lower()


def _text(value: Any, *, limit: int = 2000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _decode_segment(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode()))


def _split_jws(token: str, *, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise InvalidBadgeError(
            f"The {what} is not a JWS compact string (three dot-separated parts)."
        )
    try:
        header = _decode_segment(parts[0])
        payload = _decode_segment(parts[1])
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidBadgeError(f"The {what}'s header or payload is not base64url JSON.") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidBadgeError(f"The {what}'s header and payload must be JSON objects.")
    alg = header.get("alg")
    if alg not in SUPPORTED_ALGORITHMS:
        raise InvalidBadgeError(
            f"The {what} is signed with {str(alg)[:20]!r}; supported: "
            + ", ".join(SUPPORTED_ALGORITHMS)
        )
    return header, payload


def did_jwk_key(did: str) -> dict[str, Any] | None:
    """The public JWK inside a did:jwk DID, or None when it is not one."""
    if not did.startswith("did:jwk:"):
        return None
    encoded = did[len("did:jwk:") :].split("#", 1)[0]
    try:
        key = _decode_segment(encoded)
    except (ValueError, UnicodeDecodeError):
        return None
    return key if isinstance(key, dict) else None


def _verify_jws(token: str, *, alg: str, jwk: dict[str, Any], errors: list[str]) -> bool:
    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
        jwt.PyJWS().decode_complete(token.strip(), key=key, algorithms=[alg])
    except jwt.PyJWKError as exc:
        errors.append(f"the issuer's key cannot verify {alg} signatures ({exc})")
        return False
    except jwt.InvalidSignatureError:
        errors.append("the signature does not match the issuer's key")
        return False
    except jwt.InvalidTokenError as exc:
        errors.append(f"the signature could not be verified ({type(exc).__name__})")
        return False
    return True


async def _issuer_check(
    issuer_id: str | None, context: VerificationContext, errors: list[str]
) -> TrustedIssuer | None:
    if not issuer_id:
        errors.append("the badge names no issuer id")
        return None
    trusted = await context.lookup_issuer(issuer_id)
    if trusted is None:
        errors.append("the issuer is not in the trusted-issuer registry")
    return trusted


# -- Open Badges 2.0 ------------------------------------------------------------------------


async def _resolve(
    value: Any, *, what: str, context: VerificationContext, errors: list[str]
) -> dict[str, Any] | None:
    """An embedded object, or a URL fetched through the allow-list."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            fetched = await context.fetch(value)
        except FetchError as exc:
            errors.append(f"the {what} could not be fetched: {exc}")
            return None
        if not isinstance(fetched, dict):
            errors.append(f"the {what} at {value} is not a JSON object")
            return None
        return fetched
    return None


def _ob2_recipient_matches(assertion: dict[str, Any], email: str) -> bool:
    recipient = assertion.get("recipient")
    if not isinstance(recipient, dict):
        return False
    identity = recipient.get("identity")
    if not isinstance(identity, str) or recipient.get("type", "email") != "email":
        return False
    if recipient.get("hashed"):
        salt = recipient.get("salt")
        return _hash_matches(identity, salt if isinstance(salt, str) else None, email)
    return _email_matches(identity, email)


def _host(url: str) -> str | None:
    try:
        return httpx.URL(url).host.lower() or None
    except (httpx.InvalidURL, TypeError):
        return None


async def _verify_ob2(
    assertion: dict[str, Any],
    *,
    fmt: str,
    raw: Any,
    signature_ok: bool | None,
    email: str,
    context: VerificationContext,
    errors: list[str],
    jws: tuple[str, str] | None = None,
) -> VerifiedBadge:
    checks = _fresh_checks()
    for required in ("recipient", "badge"):
        if required not in assertion:
            raise InvalidBadgeError(f"The Open Badges 2.0 assertion has no '{required}'.")
    assertion_id = assertion.get("id")
    if fmt == "ob2_hosted" and not isinstance(assertion_id, str):
        raise InvalidBadgeError("A hosted Open Badges 2.0 assertion needs its 'id' URL.")
    hosted_fetched = False
    if fmt == "ob2_hosted":
        assert isinstance(assertion_id, str)
        fetched = await _resolve(
            assertion_id, what="hosted assertion", context=context, errors=errors
        )
        if fetched is not None and fetched.get("id") != assertion_id:
            errors.append("the hosted assertion at its id URL has a different id")
            fetched = None
        if fetched is not None:
            assertion = fetched
            raw = {"submitted": raw, "hosted": fetched}
            hosted_fetched = True
    badge_class = await _resolve(
        assertion.get("badge"), what="badge class", context=context, errors=errors
    )
    issuer = (
        await _resolve(badge_class.get("issuer"), what="issuer", context=context, errors=errors)
        if badge_class
        else None
    )
    issuer_id = issuer.get("id") if issuer and isinstance(issuer.get("id"), str) else None
    if issuer_id is None and badge_class and isinstance(badge_class.get("issuer"), str):
        issuer_id = badge_class["issuer"]
    trusted = await _issuer_check(issuer_id, context, errors)
    checks["issuer"] = trusted is not None

    if fmt == "ob2_hosted":
        # Hosted verification: what we fetched from the assertion's own URL, on the issuer's
        # host or an origin the issuer allows, is the issuer's statement.
        verification = issuer.get("verification") if issuer else None
        allowed = verification.get("allowedOrigins") if isinstance(verification, dict) else None
        origins = {_host(issuer_id)} if issuer_id else set()
        if isinstance(allowed, list):
            origins |= {str(origin).lower() for origin in allowed}
        elif isinstance(allowed, str):
            origins.add(allowed.lower())
        origins.discard(None)
        on_origin = _host(str(assertion_id)) in origins
        if hosted_fetched and not on_origin:
            errors.append("the hosted assertion is not on the issuer's origin")
        checks["signature"] = hosted_fetched and on_origin
    elif jws is not None:
        token, alg = jws
        key = trusted.public_key_jwk if trusted else None
        if key is None:
            errors.append("no public key is registered for the issuer; signature unchecked")
        else:
            checks["signature"] = _verify_jws(token, alg=alg, jwk=key, errors=errors)
    elif signature_ok is not None:
        checks["signature"] = signature_ok

    expires_at = _parse_time(assertion.get("expires"), what="expires", errors=errors)
    checks["expiry"] = expires_at is None or expires_at > context.now
    if not checks["expiry"]:
        errors.append("the badge has expired")

    revoked = assertion.get("revoked") is True
    if trusted and isinstance(assertion_id, str) and assertion_id in trusted.revoked_credential_ids:
        revoked = True
    checks["revocation"] = not revoked
    if revoked:
        reason = assertion.get("revocationReason")
        errors.append(
            "the issuer has revoked this badge"
            + (f": {_text(reason, limit=200)}" if reason else "")
        )

    checks["recipient"] = _ob2_recipient_matches(assertion, email)
    if not checks["recipient"]:
        errors.append("the badge was not issued to this citizen's email address")

    criteria = badge_class.get("criteria") if badge_class else None
    if isinstance(criteria, dict):
        criteria = criteria.get("narrative") or criteria.get("id")
    name = _text(badge_class.get("name"), limit=300) if badge_class else ""
    return VerifiedBadge(
        format=fmt,
        name=name or "(badge class unavailable)",
        description=_text(badge_class.get("description")) if badge_class else "",
        criteria=_text(criteria) or None,
        issuer_id=issuer_id,
        issuer_name=(_text(issuer.get("name"), limit=300) or None) if issuer else None,
        issued_on=_parse_time(assertion.get("issuedOn"), what="issuedOn", errors=errors),
        expires_at=expires_at,
        raw_credential=raw,
        checks=checks,
        errors=errors,
    )


# -- Open Badges 3.0 ------------------------------------------------------------------------


def _ob3_recipient_matches(subject: dict[str, Any], sub: Any, email: str) -> bool:
    subject_id = subject.get("id", sub)
    if isinstance(subject_id, str) and subject_id.lower().startswith("mailto:"):
        if _email_matches(subject_id[len("mailto:") :], email):
            return True
    identifiers = subject.get("identifier")
    if isinstance(identifiers, dict):
        identifiers = [identifiers]
    for identifier in identifiers if isinstance(identifiers, list) else []:
        if not isinstance(identifier, dict) or identifier.get("identityType") != "emailAddress":
            continue
        value = identifier.get("identityHash")
        if not isinstance(value, str):
            continue
        salt = identifier.get("salt")
        if identifier.get("hashed"):
            if _hash_matches(value, salt if isinstance(salt, str) else None, email):
                return True
        elif _email_matches(value, email):
            return True
    return False


async def _ob3_not_revoked(
    credential: dict[str, Any],
    credential_id: str | None,
    trusted: TrustedIssuer | None,
    context: VerificationContext,
    errors: list[str],
) -> bool:
    if trusted and credential_id and credential_id in trusted.revoked_credential_ids:
        errors.append("the issuer has revoked this badge")
        return False
    status = credential.get("credentialStatus")
    if status is None:
        return True
    if not isinstance(status, dict):
        errors.append("credentialStatus is not an object")
        return False
    status_type = status.get("type")
    if status_type != "1EdTechRevocationList":
        errors.append(f"credentialStatus type {str(status_type)[:60]!r} is not supported")
        return False
    url = status.get("id")
    if not isinstance(url, str):
        errors.append("credentialStatus has no list URL")
        return False
    try:
        listing = await context.fetch(url)
    except FetchError as exc:
        errors.append(f"the revocation list could not be fetched: {exc}")
        return False
    revoked = listing.get("revokedCredentials") if isinstance(listing, dict) else None
    if not isinstance(revoked, list):
        errors.append("the revocation list has no revokedCredentials")
        return False
    for entry in revoked:
        if isinstance(entry, dict) and entry.get("id") == credential_id:
            if entry.get("revoked", True) is not False:
                errors.append("the issuer has revoked this badge")
                return False
    return True


async def _verify_ob3(token: str, *, email: str, context: VerificationContext) -> VerifiedBadge:
    errors: list[str] = []
    checks = _fresh_checks()
    header, payload = _split_jws(token, what="credential")
    credential = payload.get("vc", payload)
    if not isinstance(credential, dict):
        raise InvalidBadgeError("The credential's 'vc' claim is not an object.")
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    if not isinstance(subject, dict):
        raise InvalidBadgeError("The credential has no credentialSubject object.")
    achievement = subject.get("achievement")
    if not isinstance(achievement, dict):
        raise InvalidBadgeError("The credential's credentialSubject has no achievement object.")
    issuer_value = credential.get("issuer", payload.get("iss"))
    issuer_id = issuer_value.get("id") if isinstance(issuer_value, dict) else issuer_value
    if not isinstance(issuer_id, str) or not issuer_id:
        raise InvalidBadgeError("The credential names no issuer.")
    if isinstance(payload.get("iss"), str) and payload["iss"] != issuer_id:
        errors.append("the JWT 'iss' differs from the credential's issuer")
    issuer_name = issuer_value.get("name") if isinstance(issuer_value, dict) else None

    trusted = await _issuer_check(issuer_id, context, errors)
    checks["issuer"] = trusted is not None
    key = did_jwk_key(issuer_id)
    if key is None and trusted is not None:
        key = trusted.public_key_jwk
    if key is None:
        errors.append("no public key is known for the issuer; signature unchecked")
    else:
        checks["signature"] = _verify_jws(token, alg=str(header["alg"]), jwk=key, errors=errors)

    expires_at = _parse_time(
        credential.get("validUntil") or credential.get("expirationDate") or payload.get("exp"),
        what="validUntil",
        errors=errors,
    )
    checks["expiry"] = expires_at is None or expires_at > context.now
    if not checks["expiry"]:
        errors.append("the badge has expired")

    credential_id = credential.get("id", payload.get("jti"))
    credential_id = credential_id if isinstance(credential_id, str) else None
    checks["revocation"] = await _ob3_not_revoked(
        credential, credential_id, trusted, context, errors
    )

    checks["recipient"] = _ob3_recipient_matches(subject, payload.get("sub"), email)
    if not checks["recipient"]:
        errors.append("the badge was not issued to this citizen's email address")

    criteria = achievement.get("criteria")
    if isinstance(criteria, dict):
        criteria = criteria.get("narrative") or criteria.get("id")
    issued = credential.get("validFrom") or credential.get("issuanceDate") or payload.get("nbf")
    return VerifiedBadge(
        format="ob3",
        name=_text(achievement.get("name"), limit=300) or "(unnamed achievement)",
        description=_text(achievement.get("description")),
        criteria=_text(criteria) or None,
        issuer_id=issuer_id,
        issuer_name=_text(issuer_name, limit=300) or (trusted.name if trusted else None),
        issued_on=_parse_time(issued, what="validFrom", errors=errors),
        expires_at=expires_at,
        raw_credential=token.strip(),
        checks=checks,
        errors=errors,
    )


async def verify_badge(
    *,
    assertion: dict[str, Any] | str | None,
    credential: str | None,
    email: str,
    context: VerificationContext,
) -> VerifiedBadge:
    if credential is not None:
        return await _verify_ob3(credential, email=email, context=context)
    if isinstance(assertion, str):
        header, payload = _split_jws(assertion, what="signed assertion")
        return await _verify_ob2(
            payload,
            fmt="ob2_signed",
            raw=assertion.strip(),
            signature_ok=None,
            email=email,
            context=context,
            errors=[],
            jws=(assertion, str(header["alg"])),
        )
    if isinstance(assertion, dict):
        verification = assertion.get("verification")
        kind = verification.get("type") if isinstance(verification, dict) else "hosted"
        if str(kind).lower() not in ("hosted", "hostedbadge"):
            raise InvalidBadgeError(
                "A JSON Open Badges 2.0 assertion must use hosted verification; send a signed "
                "assertion as its JWS compact string."
            )
        return await _verify_ob2(
            assertion,
            fmt="ob2_hosted",
            raw=assertion,
            signature_ok=None,
            email=email,
            context=context,
            errors=[],
        )
    raise InvalidBadgeError(
        "Give an Open Badges 2.0 'assertion' or an Open Badges 3.0 'credential'."
    )
