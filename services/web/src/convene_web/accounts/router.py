"""Sign in (with an admin's security code), create an account, confirm email, reset a
password, sign out. Every form: POST -> redirect -> GET."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from convene_web.accounts import service
from convene_web.dependencies import CheckedForm, GatewayDep, PagesDep, SessionDep, SessionStoreDep
from convene_web.errors import GatewayProblem
from convene_web.forms import back_with_errors, safe_next, see_other, text
from convene_web.gateway import IssuedToken
from convene_web.sessions import Session, SessionStore

router = APIRouter(tags=["accounts"], default_response_class=HTMLResponse)
Token = Annotated[str, Query(min_length=1, max_length=2048)]


def _signed_in(
    store: SessionStore, session: Session, issued: IssuedToken, *, email: str, next_url: str
) -> RedirectResponse:
    store.rotate(session)  # a new session id at sign-in
    session.sign_in(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
        scopes=issued.scopes,
        email=email,
    )
    return see_other(safe_next(next_url, service.home_for(session)))


# -- sign in --------------------------------------------------------------------------------
@router.get("/sign-in")
async def sign_in_page(
    request: Request, pages: PagesDep, session: SessionDep, next: str = ""
) -> HTMLResponse:
    errors, values = session.take_form("sign-in")
    return pages.render(
        request,
        "accounts/sign_in.html",
        {"values": values, "next": safe_next(next, "")},
        session=session,
        errors=errors,
    )


@router.post("/sign-in")
async def sign_in(
    form: CheckedForm, session: SessionDep, store: SessionStoreDep, gateway: GatewayDep
) -> RedirectResponse:
    email = text(form, "email")
    password = text(form, "password", strip=False)
    next_url = safe_next(text(form, "next"), "")
    errors = service.sign_in_errors(email=email, password=password)
    back = "/sign-in" + (f"?next={next_url}" if next_url else "")
    if errors:
        return back_with_errors(
            session, form="sign-in", url=back, errors=errors, values={"email": email}
        )
    try:
        issued = await gateway.sign_in(email=email, password=password)
    except GatewayProblem as problem:
        if service.needs_second_factor(problem):
            session.pending_totp = {"email": email, "password": password, "next": next_url}
            return see_other("/sign-in/security-code")
        return back_with_errors(
            session,
            form="sign-in",
            url=back,
            errors={"email": "Enter a correct email address and password"},
            values={"email": email},
        )
    return _signed_in(store, session, issued, email=email, next_url=next_url)


@router.get("/sign-in/security-code")
async def security_code_page(request: Request, pages: PagesDep, session: SessionDep) -> Response:
    if session.pending_totp is None:
        return see_other("/sign-in")
    errors, _ = session.take_form("security-code")
    return pages.render(request, "accounts/security_code.html", session=session, errors=errors)


@router.post("/sign-in/security-code")
async def security_code(
    form: CheckedForm, session: SessionDep, store: SessionStoreDep, gateway: GatewayDep
) -> RedirectResponse:
    pending = session.pending_totp
    if pending is None:
        return see_other("/sign-in")
    code = text(form, "totp").replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return back_with_errors(
            session,
            form="security-code",
            url="/sign-in/security-code",
            errors={"totp": "Enter the 6-digit security code from your authenticator app"},
            values={},
        )
    try:
        issued = await gateway.sign_in(
            email=pending["email"], password=pending["password"], totp=code
        )
    except GatewayProblem:
        return back_with_errors(
            session,
            form="security-code",
            url="/sign-in/security-code",
            errors={"totp": "The security code is not correct or has expired: enter a new one"},
            values={},
        )
    return _signed_in(store, session, issued, email=pending["email"], next_url=pending["next"])


# -- create an account --------------------------------------------------------------------
@router.get("/create-account")
async def create_account_page(
    request: Request, pages: PagesDep, session: SessionDep
) -> HTMLResponse:
    errors, values = session.take_form("create-account")
    return pages.render(
        request, "accounts/create_account.html", {"values": values}, session=session, errors=errors
    )


@router.post("/create-account")
async def create_account(
    form: CheckedForm, session: SessionDep, gateway: GatewayDep
) -> RedirectResponse:
    email = text(form, "email")
    password = text(form, "password", strip=False)
    name = text(form, "name")
    values = {"email": email, "name": name}
    errors = service.create_account_errors(email=email, password=password, name=name)
    if not errors:
        try:
            await gateway.register_citizen(email=email, password=password, name=name)
        except GatewayProblem as problem:
            errors = service.create_account_problem(problem)
    if errors:
        return back_with_errors(
            session, form="create-account", url="/create-account", errors=errors, values=values
        )
    session.form_errors["check-email"] = {"errors": {}, "values": {"email": email}}
    return see_other("/create-account/check-email")


@router.get("/create-account/check-email")
async def check_email(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    _, values = session.take_form("check-email")
    return pages.render(
        request, "accounts/check_email.html", {"email": values.get("email")}, session=session
    )


# -- confirm email ------------------------------------------------------------------------
@router.get("/verify-email")
async def verify_email_page(
    request: Request, pages: PagesDep, session: SessionDep, token: Token
) -> HTMLResponse:
    # A button, not the GET itself: mail scanners that follow links must not confirm anything.
    return pages.render(request, "accounts/verify_email.html", {"token": token}, session=session)


@router.post("/verify-email")
async def verify_email(form: CheckedForm, gateway: GatewayDep) -> RedirectResponse:
    try:
        await gateway.verify_email(token=text(form, "token"))
    except GatewayProblem:
        return see_other("/verify-email/failed")
    return see_other("/verify-email/confirmed")


@router.get("/verify-email/confirmed")
async def email_confirmed(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    return pages.render(request, "accounts/email_confirmed.html", session=session)


@router.get("/verify-email/failed")
async def email_not_confirmed(
    request: Request, pages: PagesDep, session: SessionDep
) -> HTMLResponse:
    return pages.render(request, "accounts/email_failed.html", session=session)


# -- forgot password ----------------------------------------------------------------------
@router.get("/forgot-password")
async def forgot_password_page(
    request: Request, pages: PagesDep, session: SessionDep
) -> HTMLResponse:
    errors, values = session.take_form("forgot-password")
    return pages.render(
        request, "accounts/forgot_password.html", {"values": values}, session=session, errors=errors
    )


@router.post("/forgot-password")
async def forgot_password(
    form: CheckedForm, session: SessionDep, gateway: GatewayDep
) -> RedirectResponse:
    email = text(form, "email")
    if not email or "@" not in email:
        return back_with_errors(
            session,
            form="forgot-password",
            url="/forgot-password",
            errors={"email": "Enter your email address, like name@example.com"},
            values={"email": email},
        )
    try:
        await gateway.request_password_reset(email=email)
    except GatewayProblem as problem:
        if problem.status == 404:  # a gateway without password reset yet
            return see_other("/forgot-password/unavailable")
        # Any other refusal reads the same as success: the page never says who has an account.
    return see_other("/forgot-password/sent")


@router.get("/forgot-password/sent")
async def reset_sent(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    return pages.render(request, "accounts/reset_sent.html", session=session)


@router.get("/forgot-password/unavailable")
async def reset_unavailable(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    return pages.render(request, "accounts/reset_unavailable.html", session=session)


@router.get("/reset-password")
async def reset_password_page(
    request: Request, pages: PagesDep, session: SessionDep, token: Token
) -> HTMLResponse:
    errors, _ = session.take_form("reset-password")
    return pages.render(
        request, "accounts/reset_password.html", {"token": token}, session=session, errors=errors
    )


@router.post("/reset-password")
async def reset_password(
    form: CheckedForm, session: SessionDep, gateway: GatewayDep
) -> RedirectResponse:
    token = text(form, "token")
    password = text(form, "password", strip=False)
    back = "/reset-password?token=" + token
    problem = service.password_error(password)
    if problem:
        return back_with_errors(
            session, form="reset-password", url=back, errors={"password": problem}, values={}
        )
    try:
        await gateway.confirm_password_reset(token=token, password=password)
    except GatewayProblem as refused:
        if refused.status == 422 and "password" in refused.fields():
            return back_with_errors(
                session,
                form="reset-password",
                url=back,
                errors={"password": "Enter a password of 10 to 128 characters"},
                values={},
            )
        return see_other("/reset-password/failed")
    session.flash.append("Your password has been changed. Sign in with your new password.")
    return see_other("/sign-in")


@router.get("/reset-password/failed")
async def reset_failed(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    return pages.render(request, "accounts/reset_failed.html", session=session)


# -- sign out -------------------------------------------------------------------------------
@router.get("/sign-out")
async def sign_out_page(request: Request, pages: PagesDep, session: SessionDep) -> Response:
    if not session.signed_in:
        return see_other("/")
    return pages.render(request, "accounts/sign_out.html", session=session)


@router.post("/sign-out")
async def sign_out(
    form: CheckedForm, session: SessionDep, store: SessionStoreDep, gateway: GatewayDep
) -> RedirectResponse:
    await gateway.sign_out(session)
    store.delete(session)
    return see_other("/signed-out")


@router.get("/signed-out")
async def signed_out(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    return pages.render(request, "accounts/signed_out.html", session=session)
