"""The portal: the web application officers, peer supporters, coordinators and leaders
use. It keeps no care records of its own: it signs people in, holds their sessions, and
calls the other services' public HTTP APIs with a short-lived token for that person."""
