"""Uhlive Stream Conversation (:mod:`~captioner.engines.uhlive.conversation`) and Stream H2B
(:mod:`~captioner.engines.uhlive.h2b`), with the token exchange (:mod:`~captioner.engines.uhlive.auth`) and what
both share (:mod:`~captioner.engines.uhlive.common`). Protocol facts: ``docs/protocols/uhlive.md``."""
