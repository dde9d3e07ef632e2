"""Rules of the account forms: what is missing or wrong, in the words the page shows."""

from __future__ import annotations

from convene_web.errors import GatewayProblem
from convene_web.sessions import Session

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128


def home_for(session: Session) -> str:
    if session.role == "admin":
        return "/admin/configs"
    if session.role == "staff":
        return "/calls"
    return "/profile"


def sign_in_errors(*, email: str, password: str) -> dict[str, str]:
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    return errors


def needs_second_factor(problem: GatewayProblem) -> bool:
    """The gateway asks an admin for their TOTP code (accounts issue: form field `totp`)."""
    said = " ".join(filter(None, [problem.slug, problem.title, problem.detail])).lower()
    return problem.status in (401, 403) and ("totp" in said or "second factor" in said)


def password_error(password: str) -> str | None:
    if not password:
        return "Enter a password"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be {MIN_PASSWORD_LENGTH} characters or more"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    return None


def create_account_errors(*, email: str, password: str, name: str) -> dict[str, str]:
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    elif "@" not in email:
        errors["email"] = "Enter an email address in the correct format, like name@example.com"
    problem = password_error(password)
    if problem:
        errors["password"] = problem
    if not name:
        errors["name"] = "Enter your name"
    elif len(name) > 200:
        errors["name"] = "Your name must be 200 characters or fewer"
    return errors


def create_account_problem(problem: GatewayProblem) -> dict[str, str]:
    """The gateway's refusal as field errors (409: the address is taken; 422: a field)."""
    if problem.status == 409:
        return {"email": "An account with this email address already exists: sign in instead"}
    fields = problem.fields()
    errors = {}
    if "email" in fields:
        errors["email"] = "Enter an email address in the correct format, like name@example.com"
    if "password" in fields:
        errors["password"] = "Enter a password of 10 to 128 characters"
    if "display_name" in fields:
        errors["name"] = "Enter your name (200 characters or fewer)"
    return errors or {"email": "We could not create the account: check the details"}
