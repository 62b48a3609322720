"""One module per GraphQL type; columns come from the models, relations are declared here."""
