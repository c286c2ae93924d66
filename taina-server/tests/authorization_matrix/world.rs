//! The fixture world the tables speak of, made through the library (it is quick, and not what
//! is being tested): community A with its admin, the owner and their things, the people who hold
//! shares on them or talk with them, a guest, a member with nothing; and community B with a
//! member of its own. Destructive cells get fresh targets from the `fresh_*` methods, made the
//! same way as the ones they stand for.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use reqwest::Client;
use taina::Taina;
use taina::accounts::{LoginRequest, NewInvite, SignedIn};
use taina::core::{
    Actor, AlbumId, ConversationId, InviteId, ItemId, MessageId, Role, SessionId, ShareId,
    UploadId, VersionId,
};
use taina::guara::NewMessage;
use taina::jaci::{NewAlbum, NewPhoto, Photo, Visibility};
use taina::testing::{PASSWORD, TestInstance};
use taina::ybira::{Location, NewResumable, NewUpload, OnConflict, ShareAccess};
use taina_server::testing::{TestServer, fixture_photo};

use super::table::Caller;

/// Someone with an account, signed in.
#[derive(Debug, Clone)]
pub struct Person {
    /// Who they are to the library.
    pub actor: Actor,
    /// A bearer token of theirs.
    pub token: String,
    /// Their email.
    pub email: String,
    /// Their community's slug (for signing in on a server with several).
    pub slug: String,
}

/// The fixture photo every photo here is made of.
pub const PHOTO: &str = "Canon_40D.jpg";

/// The world, served.
pub struct World {
    /// The instance.
    pub taina: Taina,
    /// The real server over it.
    pub server: TestServer,
    /// A client for the calls.
    pub client: Client,
    /// Everyone with a column but the anonymous caller.
    people: BTreeMap<Caller, Person>,
    /// A member of A who is never a column: fresh shares are made with them.
    pub bystander: Person,
    /// B's admin.
    pub elsewhere_admin: Person,
    /// A's name.
    pub community_name: String,
    /// An invite to A with uses enough for every registration the test makes.
    pub invite_token: String,
    /// The owner's private folder, shared with the reader (read) and the writer (write).
    pub projects: ItemId,
    /// The owner's file in `Projects`, with an earlier version.
    pub notes: ItemId,
    /// The owner's photo in `Projects`.
    pub photo: Photo,
    /// The owner's photo in A's shared files.
    pub shared_photo: Photo,
    /// The owner's album `Summer`, shared with A, holding `shared_photo`.
    pub album: AlbumId,
    /// The owner's group `Family`, with the participant.
    pub family: ConversationId,
    /// The owner's message in `Family`.
    pub message: MessageId,
    /// The owner's message in `Family` attaching `notes.txt`.
    pub attaching: MessageId,
    /// The owner's unfinished resumable upload into `Projects`.
    pub upload: UploadId,
    /// Makes names unique.
    counter: AtomicUsize,
}

/// One chunk of bytes, as uploads take them.
fn stream(bytes: Vec<u8>) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    futures::stream::iter(vec![Ok(Bytes::from(bytes))])
}

impl World {
    /// Builds the world on `t` and serves it.
    pub async fn build(t: &TestInstance) -> World {
        let accounts = t.taina.accounts();
        let admin_signed_in = t.setup().await;
        let admin_actor = t.actor(&admin_signed_in).await;
        let community = accounts
            .community(&admin_actor)
            .await
            .expect("A's community");
        let person = |(actor, signed_in): (Actor, SignedIn), email: &str, slug: &str| Person {
            actor,
            token: signed_in.token,
            email: email.to_owned(),
            slug: slug.to_owned(),
        };
        let mut people = BTreeMap::new();
        people.insert(
            Caller::Admin,
            person(
                (admin_actor.clone(), admin_signed_in),
                "admin@example.org",
                &community.slug,
            ),
        );
        for (caller, email, role) in [
            (Caller::Guest, "guest@example.org", Role::Guest),
            (Caller::Member, "member@example.org", Role::Member),
            (Caller::Owner, "owner@example.org", Role::Member),
            (Caller::Reader, "reader@example.org", Role::Member),
            (Caller::Writer, "writer@example.org", Role::Member),
            (Caller::Participant, "participant@example.org", Role::Member),
        ] {
            let joined = t.join(&admin_actor, email, role).await;
            people.insert(caller, person(joined, email, &community.slug));
        }
        let bystander = person(
            t.join(&admin_actor, "bystander@example.org", Role::Member)
                .await,
            "bystander@example.org",
            &community.slug,
        );

        let (elsewhere_actor, elsewhere_signed_in) =
            t.other_community("Outra Vila", "beto@example.org").await;
        let elsewhere = accounts
            .community(&elsewhere_actor)
            .await
            .expect("B's community");
        let outsider = t
            .join(&elsewhere_actor, "outsider@example.org", Role::Member)
            .await;
        people.insert(
            Caller::Outsider,
            person(outsider, "outsider@example.org", &elsewhere.slug),
        );
        let elsewhere_admin = person(
            (elsewhere_actor, elsewhere_signed_in),
            "beto@example.org",
            &elsewhere.slug,
        );

        let invite = accounts
            .create_invite(
                &admin_actor,
                NewInvite {
                    max_uses: 100,
                    ..Default::default()
                },
            )
            .await
            .expect("an invite for registrations");

        let owner = people[&Caller::Owner].actor.clone();
        let ybira = t.taina.ybira();
        let projects = ybira
            .create_folder(&owner, &Location::MyFiles, "Projects")
            .await
            .expect("Projects")
            .id;
        for (caller, access) in [
            (Caller::Reader, ShareAccess::Read),
            (Caller::Writer, ShareAccess::Write),
        ] {
            ybira
                .share(&owner, &projects, &people[&caller].actor.user_id, access)
                .await
                .expect("share Projects");
        }
        let in_projects = Location::Folder(projects.clone());
        let notes = file(&t.taina, &owner, &in_projects, "notes.txt", b"first").await;
        replace(&t.taina, &owner, &in_projects, "notes.txt", b"second").await;
        let photo = photo_at(&t.taina, &owner, &in_projects, "canon.jpg").await;
        let shared_photo = photo_at(&t.taina, &owner, &Location::Shared, "harbour.jpg").await;
        let jaci = t.taina.jaci();
        let album = jaci
            .create_album(
                &owner,
                NewAlbum {
                    name: "Summer".into(),
                    description: String::new(),
                    visibility: Visibility::Shared,
                },
            )
            .await
            .expect("Summer")
            .id;
        jaci.add_to_album(&owner, &album, std::slice::from_ref(&shared_photo.id))
            .await
            .expect("a photo in Summer");

        let guara = t.taina.guara();
        let family = guara
            .create_group(
                &owner,
                "Family",
                &[people[&Caller::Participant].actor.user_id.clone()],
            )
            .await
            .expect("Family")
            .id;
        let message = say(&t.taina, &owner, &family, "only for the family", None).await;
        let attaching = say(&t.taina, &owner, &family, "the notes", Some(notes.clone())).await;
        let upload = resumable(&t.taina, &owner, &in_projects, "big.bin").await;

        World {
            taina: t.taina.clone(),
            server: TestServer::start(t).await,
            client: Client::new(),
            people,
            bystander,
            elsewhere_admin,
            community_name: community.name,
            invite_token: invite.token,
            projects,
            notes,
            photo,
            shared_photo,
            album,
            family,
            message,
            attaching,
            upload,
            counter: AtomicUsize::new(0),
        }
    }

    /// The person in `caller`'s column (none for the anonymous caller).
    pub fn person(&self, caller: Caller) -> Option<&Person> {
        self.people.get(&caller)
    }

    /// `caller`'s bearer token (none for the anonymous caller).
    pub fn token(&self, caller: Caller) -> Option<String> {
        self.person(caller).map(|p| p.token.clone())
    }

    /// The owner.
    pub fn owner(&self) -> &Person {
        &self.people[&Caller::Owner]
    }

    /// The participant.
    pub fn participant(&self) -> &Person {
        &self.people[&Caller::Participant]
    }

    /// A name no other call used: `{stem}-{n}{extension}`.
    pub fn fresh_name(&self, stem: &str, extension: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{stem}-{n}{extension}")
    }

    fn in_projects(&self) -> Location {
        Location::Folder(self.projects.clone())
    }

    /// A new session of `person`'s.
    pub async fn sign_in(&self, person: &Person) -> SignedIn {
        self.taina
            .accounts()
            .login(LoginRequest {
                email: person.email.clone(),
                password: PASSWORD.into(),
                community: Some(person.slug.clone()),
                ..Default::default()
            })
            .await
            .expect("sign in again")
    }

    /// Another session of the owner's.
    pub async fn fresh_owner_session(&self) -> SessionId {
        self.sign_in(self.owner()).await.session_id
    }

    /// A new app password of the owner's.
    pub async fn fresh_owner_app_password(&self) -> taina::core::AppPasswordId {
        self.taina
            .accounts()
            .create_app_password(
                &self.owner().actor,
                taina::accounts::NewAppPassword {
                    name: "a device".into(),
                    scope: taina::core::app_password::Scope::Files,
                },
            )
            .await
            .expect("an app password")
            .info
            .id
    }

    /// A new device sign-in, waiting for someone to answer it: its login token.
    pub async fn fresh_login_flow(&self) -> String {
        self.taina
            .accounts()
            .start_login_flow("a device")
            .await
            .expect("a device sign-in")
            .login_token
    }

    /// A new member of A, signed in.
    pub async fn fresh_member(&self) -> Person {
        let admin = &self.people[&Caller::Admin];
        let invite = self
            .taina
            .accounts()
            .create_invite(&admin.actor, NewInvite::default())
            .await
            .expect("an invite");
        let email = format!("{}@example.org", self.fresh_name("leaving", ""));
        let signed_in = self
            .taina
            .accounts()
            .register(taina::accounts::RegisterRequest {
                invite: Some(invite.token),
                email: email.clone(),
                password: PASSWORD.into(),
                display_name: "Leaving".into(),
                ..Default::default()
            })
            .await
            .expect("a new member");
        let actor = self
            .taina
            .accounts()
            .authenticate(&signed_in.token)
            .await
            .expect("the new member");
        Person {
            actor,
            token: signed_in.token,
            email,
            slug: admin.slug.clone(),
        }
    }

    /// A new invite to A, made by its admin.
    pub async fn fresh_invite(&self) -> InviteId {
        self.taina
            .accounts()
            .create_invite(&self.people[&Caller::Admin].actor, NewInvite::default())
            .await
            .expect("an invite")
            .invite
            .id
    }

    /// A new folder of the owner's in `Projects`.
    pub async fn fresh_folder(&self) -> ItemId {
        self.taina
            .ybira()
            .create_folder(
                &self.owner().actor,
                &self.in_projects(),
                &self.fresh_name("folder", ""),
            )
            .await
            .expect("a folder")
            .id
    }

    /// A new file of the owner's in `Projects`.
    pub async fn fresh_file(&self) -> ItemId {
        let name = self.fresh_name("file", ".txt");
        file(
            &self.taina,
            &self.owner().actor,
            &self.in_projects(),
            &name,
            b"text",
        )
        .await
    }

    /// A new file of the owner's in `Projects` with an earlier version, and that version.
    pub async fn fresh_version(&self) -> (ItemId, VersionId) {
        let owner = &self.owner().actor;
        let name = self.fresh_name("versioned", ".txt");
        let id = file(&self.taina, owner, &self.in_projects(), &name, b"first").await;
        replace(&self.taina, owner, &self.in_projects(), &name, b"second").await;
        let versions = self
            .taina
            .ybira()
            .versions(owner, &id)
            .await
            .expect("its versions");
        (id, versions[0].id.clone())
    }

    /// A new file of the owner's that they put in the trash from `Projects`.
    pub async fn fresh_trashed(&self) -> ItemId {
        let id = self.fresh_file().await;
        self.taina
            .ybira()
            .delete(&self.owner().actor, &id)
            .await
            .expect("to the trash");
        id
    }

    /// A new share by the owner of a new file in `Projects`, with the bystander.
    pub async fn fresh_share(&self) -> ShareId {
        let id = self.fresh_file().await;
        self.taina
            .ybira()
            .share(
                &self.owner().actor,
                &id,
                &self.bystander.actor.user_id,
                ShareAccess::Read,
            )
            .await
            .expect("a share")
            .id
    }

    /// A new unfinished upload of the owner's into `Projects`.
    pub async fn fresh_upload(&self) -> UploadId {
        let name = self.fresh_name("upload", ".bin");
        resumable(&self.taina, &self.owner().actor, &self.in_projects(), &name).await
    }

    /// A new photo of the owner's in `Projects`.
    pub async fn fresh_photo(&self) -> Photo {
        let name = self.fresh_name("photo", ".jpg");
        photo_at(&self.taina, &self.owner().actor, &self.in_projects(), &name).await
    }

    /// A new album of the owner's, shared with A, holding the photo in A's shared files.
    pub async fn fresh_album(&self) -> AlbumId {
        let owner = &self.owner().actor;
        let jaci = self.taina.jaci();
        let album = jaci
            .create_album(
                owner,
                NewAlbum {
                    name: self.fresh_name("album", ""),
                    description: String::new(),
                    visibility: Visibility::Shared,
                },
            )
            .await
            .expect("an album")
            .id;
        jaci.add_to_album(owner, &album, std::slice::from_ref(&self.shared_photo.id))
            .await
            .expect("a photo in the album");
        album
    }

    /// A new group of the owner's with the participant.
    pub async fn fresh_group(&self) -> ConversationId {
        self.taina
            .guara()
            .create_group(
                &self.owner().actor,
                &self.fresh_name("group", ""),
                &[self.participant().actor.user_id.clone()],
            )
            .await
            .expect("a group")
            .id
    }

    /// A new message of the owner's in `Family`.
    pub async fn fresh_message(&self) -> MessageId {
        say(
            &self.taina,
            &self.owner().actor,
            &self.family,
            "a message",
            None,
        )
        .await
    }

    /// A new message of the owner's in `Family`, which the owner and the participant reacted to
    /// with `emoji`.
    pub async fn fresh_reacted(&self, emoji: &str) -> MessageId {
        let id = self.fresh_message().await;
        for person in [self.owner(), self.participant()] {
            self.taina
                .guara()
                .react(&person.actor, &id, emoji)
                .await
                .expect("a reaction");
        }
        id
    }
}

/// Uploads `bytes` as `name` to `location`, as `actor`.
pub async fn file(
    taina: &Taina,
    actor: &Actor,
    location: &Location,
    name: &str,
    bytes: &[u8],
) -> ItemId {
    taina
        .ybira()
        .upload(
            actor,
            NewUpload {
                location: location.clone(),
                name: name.into(),
                declared_size: None,
                on_conflict: OnConflict::Rename,
            },
            stream(bytes.to_vec()),
        )
        .await
        .expect("an upload")
        .id
}

/// Uploads `bytes` as the new content of `name` in `location`: the old one becomes a version.
async fn replace(taina: &Taina, actor: &Actor, location: &Location, name: &str, bytes: &[u8]) {
    taina
        .ybira()
        .upload(
            actor,
            NewUpload {
                location: location.clone(),
                name: name.into(),
                declared_size: None,
                on_conflict: OnConflict::Replace,
            },
            stream(bytes.to_vec()),
        )
        .await
        .expect("a new content");
}

/// Adds the fixture photo as `name` in `location` to `actor`'s library.
async fn photo_at(taina: &Taina, actor: &Actor, location: &Location, name: &str) -> Photo {
    taina
        .jaci()
        .import(
            actor,
            NewPhoto {
                location: location.clone(),
                name: name.into(),
                declared_size: None,
                client_file_time: None,
            },
            stream(fixture_photo(PHOTO)),
        )
        .await
        .expect("a photo")
}

/// Sends `text` (attaching `file`) in `conversation`, as `actor`.
pub async fn say(
    taina: &Taina,
    actor: &Actor,
    conversation: &ConversationId,
    text: &str,
    file: Option<ItemId>,
) -> MessageId {
    taina
        .guara()
        .send(
            actor,
            conversation,
            NewMessage {
                text: text.into(),
                attachment: file,
                reply_to: None,
                client_key: None,
            },
        )
        .await
        .expect("a message")
        .id
}

/// Opens a resumable upload of ten bytes as `name` in `location`, as `actor`.
async fn resumable(taina: &Taina, actor: &Actor, location: &Location, name: &str) -> UploadId {
    taina
        .ybira()
        .create_resumable(
            actor,
            NewResumable {
                location: location.clone(),
                name: name.into(),
                length: 10,
                as_photo: false,
                client_file_time: None,
                on_conflict: OnConflict::Rename,
            },
        )
        .await
        .expect("a resumable upload")
        .id
}
