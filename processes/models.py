"""Every table of the application, imported in one place for Alembic and test set-up."""

from engine import models as engine_models  # noqa: F401
from processes.accounts import models as accounts  # noqa: F401
from processes.audit import models as audit  # noqa: F401
from processes.customers import models as customers  # noqa: F401
from processes.devices import models as devices  # noqa: F401
from processes.dispatch import models as dispatch  # noqa: F401
from processes.documents import models as documents  # noqa: F401
from processes.engineers import models as engineers  # noqa: F401
from processes.evidence import models as evidence  # noqa: F401
from processes.heatmap import models as heatmap  # noqa: F401
from processes.kpi import models as kpi  # noqa: F401
from processes.maintenance import models as maintenance  # noqa: F401
from processes.modeling import models as modeling  # noqa: F401
from processes.notifications import models as notifications  # noqa: F401
from processes.portal import models as portal  # noqa: F401
from processes.rootcauses import models as rootcauses  # noqa: F401
from processes.tickets import (
    drafts,  # noqa: F401
    submissions,  # noqa: F401
)
from processes.tickets import models as tickets  # noqa: F401
from processes.versions import models as versions  # noqa: F401
