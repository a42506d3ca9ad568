pytest_plugins = ["creditcase.testing"]
