"""A creator's statements and earnings in the portal: pages beside the admin's own."""
