from tincan import ErrorPage

ADVICE = {
    405: "This address does not answer {method} requests.",
}


class OtherErrorPage(ErrorPage):
    @property
    def heading(self):
        return self.error.status_line

    @property
    def advice(self):
        text = ADVICE.get(self.error.status_code, "The request could not be served.")
        return text.format(method=self.request.method)
