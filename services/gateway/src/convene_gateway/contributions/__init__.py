"""Contributions: an accepted invitee's answers (citizen: submit, read, withdraw), read by the
call's body under the ref (with contact details when the citizen consents to contact)."""
