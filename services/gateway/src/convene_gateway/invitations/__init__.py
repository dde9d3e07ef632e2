"""Invitations through the gateway: public bodies invite, follow, rate and close; citizens
read and answer their own; admins read concentration figures and dead letters. The matcher
holds invitations; contact details come from profiles at read time, only for citizens who
accepted AND consent to be contacted."""
