# Issue 18: the official CPF flux (idFlux per file, idTechnique and the portal's answer per record,
# processing reports). Files produced before keep their content; they get an idFlux and their records
# an idTechnique so that the history reads the same way.

import django.db.models.deletion
import reporting.models
from django.conf import settings
from django.db import migrations, models


def fill_ids(apps, schema_editor):
    Batch = apps.get_model("reporting", "AccrochageBatch")
    Record = apps.get_model("reporting", "AccrochageRecord")
    for batch in Batch.objects.filter(flux_id__isnull=True).only("pk"):
        Batch.objects.filter(pk=batch.pk).update(flux_id=reporting.models.new_flux_id())
    for record in Record.objects.filter(id_technique="").select_related("candidate", "outcome"):
        Record.objects.filter(pk=record.pk).update(
            id_technique=f"{record.candidate.reference}-D{record.outcome.session_id}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="accrochagebatch",
            name="flux_id",
            field=models.CharField(editable=False, max_length=50, null=True, verbose_name="idFlux"),
        ),
        migrations.AddField(
            model_name="accrochagebatch",
            name="left_out",
            field=models.JSONField(blank=True, default=list, verbose_name="titulaires laissés de côté"),
        ),
        migrations.AddField(
            model_name="accrochagebatch",
            name="schema_name",
            field=models.CharField(blank=True, max_length=255, verbose_name="schéma XSD de validation"),
        ),
        migrations.AddField(
            model_name="accrochagerecord",
            name="answered_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="réponse enregistrée le"),
        ),
        migrations.AddField(
            model_name="accrochagerecord",
            name="id_technique",
            field=models.CharField(blank=True, max_length=255, verbose_name="idTechnique"),
        ),
        migrations.AddField(
            model_name="accrochagerecord",
            name="reason",
            field=models.TextField(blank=True, verbose_name="motif du rejet"),
        ),
        migrations.AddField(
            model_name="accrochagerecord",
            name="status",
            field=models.CharField(
                choices=[
                    ("sent", "Envoyé, en attente du portail"),
                    ("accepted", "Accepté"),
                    ("rejected", "Rejeté"),
                ],
                default="sent",
                max_length=10,
                verbose_name="réponse du portail",
            ),
        ),
        migrations.CreateModel(
            name="ProcessingReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "file",
                    models.FileField(
                        max_length=255, upload_to=reporting.models.report_upload_to, verbose_name="fichier"
                    ),
                ),
                (
                    "original_name",
                    models.CharField(blank=True, max_length=255, verbose_name="nom du fichier"),
                ),
                ("sha256", models.CharField(max_length=64, verbose_name="empreinte SHA-256")),
                ("accepted_count", models.PositiveIntegerField(default=0, verbose_name="acceptés")),
                ("rejected_count", models.PositiveIntegerField(default=0, verbose_name="rejetés")),
                ("uploaded_at", models.DateTimeField(auto_now_add=True, verbose_name="déposé le")),
                (
                    "batch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reports",
                        to="reporting.accrochagebatch",
                        verbose_name="export",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="déposé par",
                    ),
                ),
            ],
            options={
                "verbose_name": "accusé de traitement du portail",
                "verbose_name_plural": "accusés de traitement du portail",
                "ordering": ["-uploaded_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="accrochagerecord",
            name="report",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="records",
                to="reporting.processingreport",
                verbose_name="accusé de traitement",
            ),
        ),
        migrations.RunPython(fill_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="accrochagebatch",
            name="flux_id",
            field=models.CharField(
                default=reporting.models.new_flux_id,
                editable=False,
                max_length=50,
                unique=True,
                verbose_name="idFlux",
            ),
        ),
    ]
