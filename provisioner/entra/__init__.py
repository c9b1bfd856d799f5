"""Microsoft Entra ID's token endpoint: proving that an app's client secret is accepted (`secret_check`)."""
