class BusinessRuleError(Exception):
    """A rule of the domain refused the change. The message is French and shown to the user as is."""

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.message = message
        self.code = code
