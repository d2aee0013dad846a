-- The address a session logged in from, shown in the account's sessions list.
ALTER TABLE sessions ADD COLUMN address TEXT;
