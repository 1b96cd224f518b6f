"""The English about page. ?lang=de forwards to the German one."""

from about_texts import AboutPage


class EnglishAbout(AboutPage):
    lang = "en"

    def handle(self):
        if self.request.query.get("lang") == "de":
            # A forward target is a URL path: absolute ones include the urlroot.
            # Spaces and non-ASCII characters need no escaping here.
            root = self.request.app.config["tincan.urlroot"].rstrip("/")
            self.request.app.forward(root + "/about/Über uns.pspx")
