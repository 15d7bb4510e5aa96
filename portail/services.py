"""Site-wide actions: messages to the support team."""

from .models import MessageContact


def envoyer_message_contact(
    *, proche, email: str, sujet: str, message: str, reference_virement: str = ""
) -> MessageContact:
    """Store the message for the support team (they read them in the back-office)."""
    return MessageContact.objects.create(
        proche=proche if proche is not None and proche.is_authenticated else None,
        email=email.strip(),
        sujet=sujet.strip(),
        message=message.strip(),
        reference_virement=reference_virement.strip().upper(),
    )
