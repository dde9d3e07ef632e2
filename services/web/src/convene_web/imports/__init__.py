"""Pages for imports: an admin's upload with its progress and rejected rows, and a citizen's
confirmation of the past responses found for them."""
