"""Everything that talks to Paragon: the HTTP client, the login source, and the Pulumi dynamic provider."""
