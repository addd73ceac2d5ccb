"""The two pieces of Django REST framework that seed 000's serializer
uses, so its code runs as written without installing DRF."""

import uuid


class UUIDField:
    def to_internal_value(self, data):
        return data if isinstance(data, uuid.UUID) else uuid.UUID(str(data))


class Serializer:
    def __init__(self, data=None, context=None):
        fields = {name: field for name, field in vars(type(self)).items()
                  if isinstance(field, UUIDField)}
        self.validated_data = {name: field.to_internal_value(data[name])
                               for name, field in fields.items()}
        self.context = context or {}
