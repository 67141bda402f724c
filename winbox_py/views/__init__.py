"""Views: Qt windows and dialogs; they talk to the back end through signals and models."""
