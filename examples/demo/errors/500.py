from tincan import ErrorPage


class ServerErrorPage(ErrorPage):
    heading = "Something went wrong on our side"
    advice = "The problem has been logged. Please try again in a moment."
