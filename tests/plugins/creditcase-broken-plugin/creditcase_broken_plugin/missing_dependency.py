"""A plugin whose dependency is not installed: importing it fails."""

import creditcase_province_sdk

CLIENT = creditcase_province_sdk.Client()
