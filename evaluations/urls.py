from django.urls import path

from .views import opinions, scoring, staff

app_name = "evaluations"

urlpatterns = [
    # staff
    path("sessions/", staff.session_list, name="session_list"),
    path("sessions/nouvelle/", staff.session_create, name="session_create"),
    path("sessions/<int:pk>/", staff.session_detail, name="session_detail"),
    path("sessions/<int:pk>/modifier/", staff.session_update, name="session_update"),
    path("sessions/<int:pk>/convoquer/", staff.convene, name="convene"),
    path("convocations/<int:pk>/affecter/", staff.assign, name="assign"),
    path("convocations/<int:pk>/retirer/<int:user_pk>/", staff.unassign, name="unassign"),
    path("convocations/<int:pk>/president-de-seance/", staff.acting_president, name="acting_president"),
    path("convocations/<int:pk>/renvoyer/", staff.resend_convocation, name="resend_convocation"),
    path("commissions/", staff.commission_list, name="commission_list"),
    path("commissions/nouvelle/", staff.commission_create, name="commission_create"),
    path("commissions/<int:pk>/", staff.commission_detail, name="commission_detail"),
    path("commissions/<int:pk>/membres/", staff.member_add, name="member_add"),
    path("membres/<int:pk>/president/", staff.member_president, name="member_president"),
    path("membres/<int:pk>/retirer/", staff.member_remove, name="member_remove"),
    path("conflits/declarer/", staff.conflict_declare, name="conflict_declare"),
    path("conflits/<int:pk>/supprimer/", staff.conflict_remove, name="conflict_remove"),
    path("candidats/<int:pk>/", staff.candidate_detail, name="candidate_detail"),
    path("candidats/<int:pk>/historique/", staff.candidate_history, name="candidate_history"),
    path("candidats/<int:pk>/inviter-tuteur/", staff.invite_tutor, name="invite_tutor"),
    path("candidats/<int:pk>/lien-tuteur/", staff.tutor_invitation_link, name="tutor_invitation_link"),
    path("fiches/<int:pk>/", staff.sheet_detail, name="sheet_detail"),
    path("fiches/<int:pk>/rouvrir/", staff.sheet_reopen, name="sheet_reopen"),
    # evaluators
    path("a-evaluer/", scoring.to_score, name="to_score"),
    path("notation/<int:candidate_pk>/<int:competency_pk>/", scoring.score, name="score"),
    path("notation/<int:candidate_pk>/<int:competency_pk>/brouillon/", scoring.autosave, name="autosave"),
    path("notation/<int:candidate_pk>/<int:competency_pk>/commission/", scoring.proposal, name="proposal"),
    path("grille/<int:candidate_pk>/<int:competency_pk>/", scoring.grid_pdf, name="grid_pdf"),
    # tutors
    path("avis/", opinions.opinions_todo, name="opinions_todo"),
    path("avis/<int:candidate_pk>/", opinions.opinion, name="opinion"),
    path("invitation/<str:token>/", opinions.invitation, name="invitation"),
]
