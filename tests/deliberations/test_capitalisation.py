"""Capitalisation has one owner and one implementation (issues 20 and 22): the lookup for one
candidate (`capitalised_for`) and the bulk lookup of the board (`capitalised_bulk`, many candidates
at once) agree on random histories — attempt chains, records of several deliberations, dates of
acquisition and validity around the day asked, the session whose board is computed left out — and
both agree with the rules written out plainly here (the oracle)."""

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from candidates.models import Candidate
from deliberations import capitalisation
from deliberations.models import CapitalisedBlock, CapitalisedCompetency
from tests.candidates.factories import CandidateFactory
from tests.core.factories import CentreFactory
from tests.deliberations.factories import DeliberationSessionFactory, paritary_jury
from tests.referential.factories import CertificationFactory

DAY = datetime.date(2026, 6, 15)
N_CANDIDATES = 4
N_SESSIONS = 3

record = st.tuples(
    st.sampled_from("cb"),  # competency or bloc
    st.integers(0, 2),  # which competency / bloc (modulo how many the CQPM has)
    st.integers(0, N_SESSIONS - 1),  # which deliberation wrote it
    st.integers(-900, 30),  # acquired on, days from DAY
    st.integers(-40, 2000),  # valid for, days from acquisition
)
history = st.fixed_dictionaries(
    {
        # parent of candidate i among 0..i-1 (or none): chains without cycles
        "parents": st.tuples(
            *(st.one_of(st.none(), st.integers(0, max(i - 1, 0))) for i in range(N_CANDIDATES))
        ),
        "records": st.lists(st.tuples(st.integers(0, N_CANDIDATES - 1), record), max_size=14),
        "on": st.integers(-60, 60),
        "exclude": st.one_of(st.none(), st.integers(0, N_SESSIONS - 1)),
    }
)


class CapitalisationAgreementTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        centre = CentreFactory()
        cls.certification = CertificationFactory(rncp_number="RNCP1")
        jury = paritary_jury(centre)
        cls.sessions = [
            DeliberationSessionFactory(
                centre=centre,
                certification=cls.certification,
                jury=jury,
                date=DAY - datetime.timedelta(days=i),
            )
            for i in range(N_SESSIONS)
        ]
        cls.candidates = [
            CandidateFactory(centre=centre, certification=cls.certification) for _ in range(N_CANDIDATES)
        ]
        cls.competencies = list(cls.certification.competencies.order_by("number"))
        cls.blocks = list(cls.certification.blocks.order_by("number"))

    def _load(self, data):
        for index, parent in enumerate(data["parents"]):
            previous = self.candidates[parent].pk if parent is not None and parent < index else None
            Candidate.objects.filter(pk=self.candidates[index].pk).update(previous_attempt_id=previous)
        CapitalisedCompetency.objects.all().delete()
        CapitalisedBlock.objects.all().delete()
        rows, seen = [], set()
        for holder, (kind, item, session, since, days) in data["records"]:
            items = self.competencies if kind == "c" else self.blocks
            target = items[item % len(items)]
            key = (holder, kind, target.pk, session)
            if key in seen:  # one record per (candidate, item, deliberation)
                continue
            seen.add(key)
            acquired_on = DAY + datetime.timedelta(days=since)
            values = {
                "candidate": self.candidates[holder],
                "session": self.sessions[session],
                "acquired_on": acquired_on,
                "valid_until": acquired_on + datetime.timedelta(days=days),
            }
            if kind == "c":
                CapitalisedCompetency.objects.create(competency=target, **values)
            else:
                CapitalisedBlock.objects.create(block=target, **values)
            rows.append((holder, kind, target.pk, values))
        return rows

    def _oracle(self, rows, parents, index, on, exclude_id):
        """The rules in plain words: the person's attempts, acquired on or before the day, still
        valid that day, not written by the excluded session; the longest valid holds the item."""
        chain, current = [], index
        while current is not None and current not in chain:
            chain.append(current)
            parent = parents[current]
            current = parent if parent is not None and parent < current else None
        expected = {"c": {}, "b": {}}
        for holder, kind, target, values in rows:
            if holder not in chain or values["session"].pk == exclude_id:
                continue
            if not (values["acquired_on"] <= on <= values["valid_until"]):
                continue
            key = (values["valid_until"], values["acquired_on"], values["session"].pk, 0)
            if target not in expected[kind] or key > expected[kind][target]:
                expected[kind][target] = key
        return expected

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(history)
    def test_single_and_bulk_lookups_agree_with_each_other_and_with_the_rules(self, data):
        rows = self._load(data)
        on = DAY + datetime.timedelta(days=data["on"])
        exclude_id = self.sessions[data["exclude"]].pk if data["exclude"] is not None else None
        fresh = {c.pk: Candidate.objects.get(pk=c.pk) for c in self.candidates}
        bulk = capitalisation.capitalised_bulk(
            {pk: c.previous_attempt_id for pk, c in fresh.items()},
            certification=self.certification,
            on=on,
            exclude_session_id=exclude_id,
        )
        for index, candidate in enumerate(self.candidates):
            single = capitalisation.capitalised_for(fresh[candidate.pk], on=on, exclude_session_id=exclude_id)
            self.assertEqual(single, bulk[candidate.pk])
            expected = self._oracle(rows, data["parents"], index, on, exclude_id)
            self.assertEqual({pk: h.key for pk, h in single.competency_holdings.items()}, expected["c"])
            self.assertEqual({pk: h.key for pk, h in single.block_holdings.items()}, expected["b"])
