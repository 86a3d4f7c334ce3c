"""Captioning sessions: :mod:`~captioner.session.build` sets one up from what the user asked for (the CLI, the app
and the self-test all use it); :mod:`~captioner.session.session` runs source → engine → transcript and keeps it
alive; :mod:`~captioner.session.backlog` and :mod:`~captioner.session.catch_up` hold and feed the audio."""
