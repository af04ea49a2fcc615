"""Who is calling: the users table and the dependencies that name the caller. The bottom domain:
every other may import it, and it imports none."""
