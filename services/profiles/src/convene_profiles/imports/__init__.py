"""Past consultation responses brought in from files (issue 12): jobs, claims, confirmation."""
