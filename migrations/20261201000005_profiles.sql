-- What people see of a remote actor on our pages (a reply's author): its
-- display name, handle, profile page and avatar URL, as its document gave
-- them (bounded and checked when parsed; escaped when shown).
ALTER TABLE remote_actors ADD COLUMN name TEXT;
ALTER TABLE remote_actors ADD COLUMN preferred_username TEXT;
ALTER TABLE remote_actors ADD COLUMN profile_url TEXT;
ALTER TABLE remote_actors ADD COLUMN icon_url TEXT;

-- An app's profile page and feed list its posts newest first.
CREATE INDEX objects_by_app ON objects (app_name, local, published);
