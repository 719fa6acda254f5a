"""Equipment maintenance (issue 12 §4): the spare-parts catalogue the close-out form picks from, the parts
a ticket used, and the preventive-maintenance tickets a schedule's cycle timer opens."""
