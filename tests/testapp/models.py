"""A model with a column of every type the encoder handles (created without migrations by the test runner)."""

from __future__ import annotations

from django.db import models


class Parent(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name

    @property
    def shout(self) -> str:
        return self.name.upper()


class Sample(models.Model):
    class Kind(models.TextChoices):
        RED = "r", "Red"
        BLUE = "b", "Blue"

    # Nullable text on purpose: exports must tell NULL (empty cell) from "" apart from nothing else.
    text = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001
    note = models.TextField(blank=True, default="")
    kind = models.CharField(max_length=1, choices=Kind.choices, default=Kind.RED)
    flag = models.BooleanField(null=True)
    count = models.BigIntegerField(null=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    ratio = models.FloatField(null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    at = models.TimeField(null=True)
    uid = models.UUIDField(null=True)
    data = models.JSONField(null=True)
    parent = models.ForeignKey(Parent, null=True, on_delete=models.SET_NULL)
    tags = models.ManyToManyField(Parent, related_name="tagged")

    class Meta:
        permissions = [("export_sample", "Can export samples")]

    def __str__(self) -> str:
        return f"Sample {self.pk}"

    @property
    def shout(self) -> str:
        return (self.text or "").upper()


class Rating(models.Model):
    """Columns of the rarer kinds: a choice label for NULL, choices on a boolean, a decimal with many places."""

    stars = models.IntegerField(null=True, choices=[(None, "Unrated"), (1, "=1 star"), (5, "Five stars")])
    recommended = models.BooleanField(null=True, choices=[(True, "Yes"), (False, "No")])
    score = models.DecimalField(max_digits=20, decimal_places=8, null=True)

    class Meta:
        permissions = [("export_rating", "Can export ratings")]

    def __str__(self) -> str:
        return f"Rating {self.pk}"
